import type { Node, SqlError } from 'libpg-query';

/** One top-level statement, as PostgreSQL's own parser (libpg_query) sees it. */
export interface ParsedStatement {
  /** 0-based position in the file. */
  readonly index: number;
  /** Node type, e.g. `IndexStmt`. */
  readonly type: string;
  /** The node's fields (the object under `type`). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly node: Node;
  /** UTF-8 byte offset of the statement's first token. */
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

/** 1-based line and column (in characters). */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface ParsedSql {
  readonly statements: readonly ParsedStatement[];
  readonly comments: readonly SqlComment[];
  /** Line and column of a UTF-8 byte offset (what the parser reports). */
  readonly position: (byteOffset: number) => Position;
}

export type ParseOutcome = { readonly ok: true; readonly sql: ParsedSql } | { readonly ok: false; readonly message: string; readonly at: Position };

/** The parser, loaded on first use: the WebAssembly module is ~100 ms of start-up the other commands do not need. */
let parser: Promise<typeof import('libpg-query')> | undefined;

async function loadParser(): Promise<typeof import('libpg-query')> {
  const module = await import('libpg-query');
  await module.loadModule();
  return module;
}

/**
 * Parses a migration file with the PostgreSQL 18 parser compiled to
 * WebAssembly. Locations come back as UTF-8 byte offsets; {@link ParsedSql.position}
 * turns them into lines and columns.
 */
export async function parseSql(text: string): Promise<ParseOutcome> {
  const { parse, scan } = await (parser ??= loadParser());
  const sql = text.replace(/^\uFEFF/, ' ');
  const bytes = Buffer.from(sql, 'utf8');
  const position = (offset: number): Position => locate(bytes, offset);
  let tree;
  try {
    tree = await parse(sql);
  } catch (error) {
    const details = (error as SqlError).sqlDetails;
    return { ok: false, message: (error as Error).message, at: position(details?.cursorPosition ?? 0) };
  }
  const tokens = (await scan(sql)).tokens;
  const comments = tokens.filter((t) => t.tokenName === 'SQL_COMMENT').map((t) => ({ text: t.text, start: t.start }));
  const code = tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  const statements = (tree.stmts ?? []).flatMap((raw, index): ParsedStatement[] => {
    const node = raw.stmt;
    if (!node) return [];
    const type = Object.keys(node)[0] ?? '';
    const location = raw.stmt_location ?? 0;
    const start = code.find((t) => t.start >= location)?.start ?? location;
    const end = raw.stmt_len ? location + raw.stmt_len : bytes.length;
    return [{ index, type, body: (node as unknown as Record<string, Record<string, unknown>>)[type] ?? {}, node, start, end }];
  });
  return { ok: true, sql: { statements, comments, position } };
}

function locate(bytes: Buffer, offset: number): Position {
  const end = Math.max(0, Math.min(offset, bytes.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: bytes.subarray(lineStart, end).toString('utf8').length + 1 };
}
