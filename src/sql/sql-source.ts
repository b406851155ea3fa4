import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { LineIndex } from './line-index.js';

/**
 * A SQL file as every command sees it (up, down, dry-run, checksum, validate,
 * lint): strictly decoded UTF-8, without a leading byte-order mark.
 */
export interface SqlSource {
  readonly path: string;
  /** The text without its BOM; line endings as in the file (they are what the server runs). */
  readonly text: string;
  /** UTF-8 bytes of {@link text}: what the parser's offsets count. */
  readonly bytes: Buffer;
  readonly lines: LineIndex;
  /** Whether the file started with a UTF-8 BOM (dropped). */
  readonly hadBom: boolean;
}

/** Why a file cannot be used, and where: 1-based line, and the byte's 1-based position in that line. */
export interface SqlSourceProblem {
  readonly path: string;
  readonly line: number;
  /** 1-based byte in the line (an invalid byte has no character column). */
  readonly byteInLine: number;
  /** 0-based byte offset in the file, BOM included. */
  readonly byteOffset: number;
  readonly message: string;
}

export type DecodeOutcome = { readonly ok: true; readonly source: SqlSource } | { readonly ok: false; readonly problem: SqlSourceProblem };

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Decodes a SQL file: strict UTF-8 (an invalid byte sequence is a problem
 * naming its line and byte, where a lenient decoder would silently store
 * U+FFFD), a leading UTF-8 BOM dropped (the server would take it for part of
 * the first token), NUL bytes refused (C strings end there, so the parser and
 * the server would silently drop the rest of the file).
 */
export function decodeSql(path: string, raw: Uint8Array): DecodeOutcome {
  const file = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const hadBom = file.subarray(0, 3).equals(BOM);
  const bytes = hadBom ? file.subarray(3) : file;
  const skipped = hadBom ? 3 : 0;
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    const shown = [...bytes.subarray(at, at + 4)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    return problem(path, bytes, at, skipped, `not valid UTF-8: invalid byte sequence starting ${shown}; save the file as UTF-8 (PostgreSQL and psql reject it too)`);
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) return problem(path, bytes, nul, skipped, 'contains a NUL byte (0x00), which SQL text cannot hold; remove it');
  return { ok: true, source: { path, text: bytes.toString('utf8'), bytes, lines: new LineIndex(bytes), hadBom } };
}

/**
 * SHA-256 (hex) of a file's cleaned text: BOM dropped and CRLF counted as LF,
 * so re-saving a file with another editor is not a change, but any other byte is.
 */
export function checksumText(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

function problem(path: string, bytes: Buffer, at: number, skipped: number, message: string): DecodeOutcome {
  const lineStart = bytes.lastIndexOf(0x0a, at - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < at; i = bytes.indexOf(0x0a, i + 1)) line++;
  const byteInLine = at - lineStart + 1 + (line === 1 ? skipped : 0);
  return { ok: false, problem: { path, line, byteInLine, byteOffset: at + skipped, message } };
}

/** 0-based offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte: length, and the allowed range of the second byte (no overlongs, surrogates or > U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return bytes.length;
}

/** Reads and decodes a SQL file; I/O errors are thrown as they come. */
export async function readSql(path: string): Promise<DecodeOutcome> {
  const { readFile } = await import('node:fs/promises');
  return decodeSql(path, await readFile(path));
}

/** `path:line: byte N: message`, the one way a source problem is printed. */
export function formatSourceProblem(p: SqlSourceProblem): string {
  return `${p.path}:${p.line}: byte ${p.byteInLine} of the line (offset ${p.byteOffset} in the file): ${p.message}`;
}
