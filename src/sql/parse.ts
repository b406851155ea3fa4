import type { Node, ParseResult, SqlError } from 'libpg-query';
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
 * Each statement carries its whole tree; for a large file that is many times
 * the file's size, so the migration engine reads {@link parseStatementOutlines}.
 */
export function parseStatements(source: SqlSource): Promise<ParseOutcome> {
  if (source.bytes.length > MAX_REMEMBERED_BYTES) return parseInPieces(source, keepWhole);
  return remembered(full, source, () => parseInPieces(source, keepWhole));
}

/**
 * The statements of a file as {@link parseStatements} gives them, except
 * that in a file larger than 1 MiB the tree of a row statement (INSERT,
 * UPDATE, DELETE, MERGE, SELECT, VALUES) keeps only its target `relation`:
 * what the engine reads of a 16 MB seed file is each statement's type,
 * position and table, and an outline is a small fraction of the tree. Kept
 * for as long as the source lives, so a run parses each file once.
 */
export function parseStatementOutlines(source: SqlSource): Promise<ParseOutcome> {
  if (source.bytes.length <= MAX_REMEMBERED_BYTES) return parseStatements(source);
  return remembered(outlines, source, () => parseInPieces(source, outline));
}

function remembered(cache: WeakMap<SqlSource, Promise<ParseOutcome>>, source: SqlSource, parse: () => Promise<ParseOutcome>): Promise<ParseOutcome> {
  let outcome = cache.get(source);
  if (!outcome) {
    outcome = parse();
    cache.set(source, outcome);
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
const full = new WeakMap<SqlSource, Promise<ParseOutcome>>();
const outlines = new WeakMap<SqlSource, Promise<ParseOutcome>>();

/** A larger file's whole tree is parsed anew for each use: it is many times the file's size, and its parse time is linear in it. */
const MAX_REMEMBERED_BYTES = 1024 * 1024;

/** Row statements: their trees are most of a seed file's, and only their target table is read of them. */
const ROW_STATEMENTS = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'SelectStmt']);

function keepWhole(statement: ParsedStatement): ParsedStatement {
  return statement;
}

function outline(statement: ParsedStatement): ParsedStatement {
  if (!ROW_STATEMENTS.has(statement.type)) return statement;
  const body = statement.body.relation === undefined ? {} : { relation: statement.body.relation };
  return { ...statement, body, node: { [statement.type]: body } as unknown as Node };
}

/**
 * About how much of a file one parser call reads. The tree the parser returns
 * for a piece is tens of times its size; pieces keep the peak to that of one
 * piece, whatever the file's size.
 */
const PIECE_BYTES = 64 * 1024;

/** How many times a piece's end is moved before the rest of the file is parsed in one call. */
const MAX_PIECE_ATTEMPTS = 12;

/**
 * Parses the file piece by piece, each piece ending at a `;` followed by
 * white space or a comment, and keeps `keep(statement)` of each statement. A piece's end is
 * only trusted when the parser agrees that a statement ends there: a `;`
 * inside a string, a comment, a function body or `BEGIN ATOMIC … END` either
 * fails to parse (the piece is then cut before the error, or grown) or leaves
 * the piece's last statement ending elsewhere (a `;` inside a `--` comment).
 * Every piece starts where a statement starts, so the parser reads the file
 * as it would read it whole, and an error found in the piece that reaches the
 * end of the file is the file's error.
 */
async function parseInPieces(source: SqlSource, keep: (statement: ParsedStatement) => ParsedStatement): Promise<ParseOutcome> {
  // An empty file is a migration that does nothing, as psql runs it (the parser calls it an error).
  if (source.text.trim() === '') return { ok: true, statements: [] };
  const { parse } = await (parser ??= loadParser());
  const { bytes } = source;
  const statements: ParsedStatement[] = [];
  for (let from = 0; from < bytes.length; ) {
    let to = cutAfter(bytes, from + PIECE_BYTES);
    for (let attempt = 1; ; attempt++) {
      const piece = await parsePiece(parse, source, from, to);
      const last = piece.ok ? piece.stmts.at(-1) : undefined;
      const trusted = to === bytes.length || (last !== undefined && last.end === to - 1);
      if (piece.ok && trusted) {
        for (const raw of piece.stmts) if (raw.node) statements.push(keep(toStatement(bytes, raw, raw.node, statements.length)));
        from = to;
        break;
      }
      if (!piece.ok && (to === bytes.length || piece.parserFailed)) return { ok: false, message: piece.message, offset: piece.offset };
      // Before the error (or the misread last statement), else twice as far; at last, the rest of the file.
      const before = lastCutBefore(bytes, from, piece.ok ? (last?.location ?? from) : piece.offset);
      to = attempt >= MAX_PIECE_ATTEMPTS ? bytes.length : before > from && before < to ? before : cutAfter(bytes, from + 2 * (to - from));
    }
  }
  return { ok: true, statements };
}

interface RawStatement {
  readonly node: Node | undefined;
  /** File byte offsets: where the parser says the statement starts (after the previous `;`), and where it ends. */
  readonly location: number;
  readonly end: number;
}

type PieceOutcome =
  | { readonly ok: true; readonly stmts: readonly RawStatement[] }
  | {
      readonly ok: false;
      readonly message: string;
      readonly offset: number;
      /** Not a syntax error: the parser itself failed (its stack overflowed). Parsing more of the file would fail again, and each such failure costs the parser's WebAssembly memory. */
      readonly parserFailed?: true;
    };

async function parsePiece(parse: (text: string) => Promise<ParseResult>, source: SqlSource, from: number, to: number): Promise<PieceOutcome> {
  const text = source.bytes.subarray(from, to).toString('utf8');
  try {
    const tree = await parse(text);
    return {
      ok: true,
      stmts: (tree.stmts ?? []).map((raw) => {
        const location = from + (raw.stmt_location ?? 0);
        return { node: raw.stmt, location, end: raw.stmt_len ? location + raw.stmt_len : to };
      }),
    };
  } catch (error) {
    const details = (error as SqlError).sqlDetails;
    if (details === undefined) return parserFailure(source, from, to, error);
    // The parser reports a 0-based *character* position.
    return { ok: false, message: (error as Error).message, offset: source.lines.byteOffsetAfter(from, details.cursorPosition) };
  }
}

/**
 * The parser gave up without a syntax error: a statement nests deeper than
 * its WebAssembly stack (tens of thousands of chained operators or
 * parentheses: "Maximum call stack size exceeded"). Where in the piece is
 * unknown, so the error names the piece's lines.
 */
function parserFailure(source: SqlSource, from: number, to: number, error: unknown): PieceOutcome {
  // Each such failure leaks the parser's WebAssembly stack (libpg-query 18); after a few dozen, every parse fails.
  const earlier = parserFailures++ > 0 ? '; the parser failed before in this process and may fail on any file after that: fix that file first' : '';
  const start = skipTrivia(source.bytes, from, to);
  const last = source.lines.lineOf(Math.max(start, to - 1));
  const lines = last === source.lines.lineOf(start) ? 'on this line' : `in the statements from this line to line ${last}`;
  return {
    ok: false,
    parserFailed: true,
    offset: start,
    message:
      `the SQL parser gave up ${lines} (${(error as Error).message}): a statement nests too deeply for it, such as thousands of ` +
      `chained operators or nested parentheses; split it into smaller statements${earlier}`,
  };
}

let parserFailures = 0;

function toStatement(bytes: Uint8Array, raw: RawStatement, node: Node, index: number): ParsedStatement {
  const type = Object.keys(node)[0] ?? '';
  const body = (node as unknown as Record<string, Record<string, unknown>>)[type] ?? {};
  return { index, type, body, node, start: skipTrivia(bytes, raw.location, raw.end), end: raw.end };
}

/**
 * Just past the first `;` at or after `from` that looks like a statement's
 * end: followed by white space, a `--` comment or the file's end (what the
 * parser makes of it is checked after). The file's end when there is none.
 */
function cutAfter(bytes: Uint8Array, from: number): number {
  for (let at = bytes.indexOf(0x3b, from); at !== -1; at = bytes.indexOf(0x3b, at + 1)) if (endsStatement(bytes, at)) return at + 1;
  return bytes.length;
}

/** Just past the last such `;` after `from` and at or before `limit`; `from` when there is none. */
function lastCutBefore(bytes: Uint8Array, from: number, limit: number): number {
  for (let at = bytes.lastIndexOf(0x3b, limit - 1); at >= from; at = at === 0 ? -1 : bytes.lastIndexOf(0x3b, at - 1)) if (endsStatement(bytes, at)) return at + 1;
  return from;
}

function endsStatement(bytes: Uint8Array, semicolon: number): boolean {
  const next = bytes[semicolon + 1];
  return next === undefined || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d || (next === 0x2d && bytes[semicolon + 2] === 0x2d);
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
