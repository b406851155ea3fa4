/** 1-based line and column; the column counts characters (Unicode code points), as PostgreSQL does. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Where every line of a UTF-8 text starts, built in one pass, so that any
 * byte offset maps to a line in O(log lines) and a column in O(line length).
 * (Mapping offsets by re-reading the text from its start made statement
 * splitting and lint quadratic.)
 */
export class LineIndex {
  readonly #bytes: Uint8Array;
  /** Byte offset of the first byte of each line. */
  readonly #starts: Uint32Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    let count = 1;
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) count++;
    const starts = new Uint32Array(count);
    let line = 1;
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) starts[line++] = i + 1;
    this.#starts = starts;
  }

  /** Number of lines (a final line without a newline counts). */
  get lineCount(): number {
    return this.#starts.length;
  }

  /** 1-based line of a byte offset. */
  lineOf(byteOffset: number): number {
    const offset = Math.max(0, Math.min(byteOffset, this.#bytes.length));
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((this.#starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** Line and column of a byte offset (clamped to the text). */
  position(byteOffset: number): Position {
    const offset = Math.max(0, Math.min(byteOffset, this.#bytes.length));
    const line = this.lineOf(offset);
    return { line, column: countCharacters(this.#bytes, this.#starts[line - 1] ?? 0, offset) + 1 };
  }

  /** Byte offset of the first byte of a 1-based line. */
  lineStart(line: number): number {
    return this.#starts[line - 1] ?? this.#bytes.length;
  }

  /** The text of a 1-based line, without its line ending. */
  lineText(line: number): string {
    const start = this.#starts[line - 1] ?? this.#bytes.length;
    const next = this.#starts[line];
    const end = next === undefined ? this.#bytes.length : next - 1;
    return Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + start, Math.max(0, end - start))
      .toString('utf8')
      .replace(/\r$/, '');
  }

  /**
   * Byte offset of the `characters`-th character (0-based) after `fromByte`:
   * turns a server's character position inside a statement into a file offset.
   */
  byteOffsetAfter(fromByte: number, characters: number): number {
    let offset = fromByte;
    for (let seen = 0; offset < this.#bytes.length; offset++) {
      if (!isContinuation(this.#bytes[offset] ?? 0)) {
        if (seen === characters) return offset;
        seen++;
      }
    }
    return offset;
  }
}

/** Characters (code points) encoded in `bytes[from, to)`. */
function countCharacters(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (!isContinuation(bytes[i] ?? 0)) count++;
  return count;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
