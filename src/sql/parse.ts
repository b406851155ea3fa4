import type { Node, SqlError } from 'libpg-query';
import type { SqlSource } from './sql-source.js';

/** One top-level statement, as PostgreSQL's own parser (libpg_query, PostgreSQL 18 grammar) sees it. */
export interface ParsedStatement {
  /** 0-based position in the file. */
  readonly index: number;
  /** Node type, e.g. `IndexStmt`. */
  readonly type: string;
  /** The node's fields (the object under `type`). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly node: Node;
  /** UTF-8 byte offset of the statement's first token (after any comments before it). */
  readonly start: number;
  /** UTF-8 byte offset just past the statement (before its `;`). */
  readonly end: number;
}

/** A `--` comment, found by the scanner (so never one inside a string or a function body). */
export interface SqlComment {
  readonly text: string;
  /** UTF-8 byte offset. */
  readonly start: number;
}

export type ParseOutcome =
  | { readonly ok: true; readonly statements: readonly ParsedStatement[] }
  | { readonly ok: false; readonly message: string; /** UTF-8 byte offset of the error. */ readonly offset: number };

/** The parser, loaded on first use: the WebAssembly module is ~100 ms of start-up the other commands do not need. */
let parser: Promise<typeof import('libpg-query')> | undefined;

async function loadParser(): Promise<typeof import('libpg-query')> {
  const module = await import('libpg-query');
  await module.loadModule();
  return module;
}

/**
 * Parses a whole file once. Linear in its size: every location the parser
 * gives is a byte offset into {@link SqlSource.bytes}, resolved to lines by
 * the source's {@link SqlSource.lines} index, never by re-reading the text.
 */
export function parseStatements(source: SqlSource): Promise<ParseOutcome> {
  if (source.bytes.length > MAX_REMEMBERED_BYTES) return parseOnce(source);
  let outcome = remembered.get(source);
  if (!outcome) {
    outcome = parseOnce(source);
    remembered.set(source, outcome);
  }
  return outcome;
}

/**
 * The outcome of each file parsed while its source is in use: a `migrate up`
 * reads the names its pending files create, the constraints they name and
 * their statements to run from the same file, and parses it once. The
 * parser's first calls are its slowest (its WebAssembly warms up), so a
 * second and third parse of the shipped files cost as much as the first.
 * Sources are immutable, so an outcome holds for as long as its source lives.
 */
const remembered = new WeakMap<SqlSource, Promise<ParseOutcome>>();

/** A larger file is parsed anew for each use: its tree is many times its size, and its parse time is linear in it. */
const MAX_REMEMBERED_BYTES = 1024 * 1024;

async function parseOnce(source: SqlSource): Promise<ParseOutcome> {
  // An empty file is a migration that does nothing, as psql runs it (the parser calls it an error).
  if (source.text.trim() === '') return { ok: true, statements: [] };
  const { parse } = await (parser ??= loadParser());
  let tree;
  try {
    tree = await parse(source.text);
  } catch (error) {
    // The parser reports a 0-based *character* position.
    const characters = (error as SqlError).sqlDetails?.cursorPosition ?? 0;
    return { ok: false, message: (error as Error).message, offset: source.lines.byteOffsetAfter(0, characters) };
  }
  const { bytes } = source;
  const statements = (tree.stmts ?? []).flatMap((raw, index): ParsedStatement[] => {
    const node = raw.stmt;
    if (!node) return [];
    const type = Object.keys(node)[0] ?? '';
    const location = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? location + raw.stmt_len : bytes.length;
    const body = (node as unknown as Record<string, Record<string, unknown>>)[type] ?? {};
    return [{ index, type, body, node, start: skipTrivia(bytes, location, end), end }];
  });
  return { ok: true, statements };
}

/** The SQL of one statement, from its first token to just before its `;`. */
export function statementText(source: SqlSource, statement: Pick<ParsedStatement, 'start' | 'end'>): string {
  return source.bytes.subarray(statement.start, statement.end).toString('utf8');
}

/**
 * The `--` comments that contain `marker`, found by scanning only the
 * statements whose text contains it (scanning a whole 16 MB file takes
 * seconds and gigabytes; a file without the marker costs one `indexOf`).
 */
export async function commentsContaining(source: SqlSource, statements: readonly ParsedStatement[], marker: string): Promise<SqlComment[]> {
  const { scan } = await (parser ??= loadParser());
  const needle = Buffer.from(marker, 'utf8');
  const comments: SqlComment[] = [];
  // Regions start where a statement's text starts (just after the previous `;`), where the lexer is in its initial state.
  const regionStarts = [0];
  for (let i = 1; i < statements.length; i++) {
    const previous = statements[i - 1];
    const start = previous === undefined ? 0 : source.bytes[previous.end] === 0x3b ? previous.end + 1 : previous.end;
    if (start > (regionStarts.at(-1) ?? 0)) regionStarts.push(start);
  }
  let region = 0;
  for (let at = source.bytes.indexOf(needle); at !== -1; ) {
    while (region + 1 < regionStarts.length && (regionStarts[region + 1] ?? 0) <= at) region++;
    const from = regionStarts[region] ?? 0;
    const to = regionStarts[region + 1] ?? source.bytes.length;
    const text = source.bytes.subarray(from, to).toString('utf8');
    for (const token of (await scan(text)).tokens) {
      if (token.tokenName === 'SQL_COMMENT' && token.text.includes(marker)) comments.push({ text: token.text, start: from + token.start });
    }
    at = source.bytes.indexOf(needle, to);
  }
  return comments;
}

/** First byte at or after `from` that is not whitespace or a comment (`--…`, nested `/* … *\/`). */
export function skipTrivia(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = bytes[i];
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c || b === 0x0b) i++;
    else if (b === 0x2d && bytes[i + 1] === 0x2d) {
      const newline = bytes.indexOf(0x0a, i);
      i = newline === -1 || newline >= to ? to : newline + 1;
    } else if (b === 0x2f && bytes[i + 1] === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < to && depth > 0) {
        if (bytes[i] === 0x2f && bytes[i + 1] === 0x2a) {
          depth++;
          i += 2;
        } else if (bytes[i] === 0x2a && bytes[i + 1] === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
    } else return i;
  }
  return Math.min(i, to);
}
