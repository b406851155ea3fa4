import { checksumText, type SqlSource } from '../sql/sql-source.js';

/** One version: an `.up.sql` file and its exact `.down.sql` counterpart. */
export interface MigrationFile {
  /** File stem shared by both files, e.g. `20261125000001_roles`. */
  readonly name: string;
  /** The source it comes from: {@link AUTHDB_SOURCE} for authdb's shipped migrations, else the application's name for its directory. */
  readonly source: string;
  readonly upPath: string;
  readonly downPath: string;
  /** The up file, read by the one loader (strict UTF-8, BOM dropped), with its line index. */
  readonly up: SqlSource;
  readonly down: SqlSource;
  /** SHA-256 (hex) of the up file's text with CRLF normalized to LF (BOM dropped). */
  readonly checksum: string;
}

/** The source name of authdb's own migrations, in `authdb_migrations.source`. */
export const AUTHDB_SOURCE = 'authdb';

/** Where one source's migrations are: a name recorded with each of them, and its directory. */
export interface MigrationSourceSpec {
  /** Recorded in `authdb_migrations.source`; lowercase letters, digits, `_` and `-`. */
  readonly name: string;
  readonly dir: string;
}

/** Names an application may give its migration directories. */
export const SOURCE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

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

/** SHA-256 of the SQL with a leading BOM dropped and CRLF line endings normalized to LF, as lowercase hex. */
export function checksumSql(sql: string): string {
  return checksumText(sql.replace(/^\uFEFF/, ''));
}
