import { createHash } from 'node:crypto';

/** One version: an `.up.sql` file and its exact `.down.sql` counterpart. */
export interface MigrationFile {
  /** File stem shared by both files, e.g. `20261125000001_roles`. */
  readonly name: string;
  readonly upPath: string;
  readonly downPath: string;
  readonly upSql: string;
  readonly downSql: string;
  /** SHA-256 (hex) of the up file with CRLF normalized to LF. */
  readonly checksum: string;
}

/** Settings a file declares in its first line. */
export interface MigrationDirectives {
  /** `false` when the first line is `-- authdb:no-transaction`. */
  readonly transaction: boolean;
}

/** `<14-digit timestamp>_<snake_case_name>` */
export const MIGRATION_NAME_PATTERN = /^\d{14}_[a-z0-9_]+$/;

const NO_TRANSACTION = /^--\s*authdb:no-transaction\s*$/;

/** Reads the directives from the first line of a migration file. */
export function parseDirectives(sql: string): MigrationDirectives {
  const firstLine = sql.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return { transaction: !NO_TRANSACTION.test(firstLine.trim()) };
}

/** SHA-256 of the SQL with CRLF line endings normalized to LF, as lowercase hex. */
export function checksumSql(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** 1-based line and column of a 1-based character position in `sql`. */
export function lineAndColumn(sql: string, position: number): { line: number; column: number } {
  const before = sql.slice(0, Math.max(0, position - 1));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
