import type { DatabaseError } from 'pg';
import { MigrationSqlError, type SqlErrorLocation } from './errors.js';
import type { MigrationScript, ScriptStatement } from './migration-script.js';

/**
 * Turns a server error raised by one statement of `script` into an error
 * located in the file: at the server's position when it gave one (a syntax
 * error, an unknown column), else at the statement's first token (a unique
 * violation, a statement or lock timeout, a permission denied).
 * Returns a {@link MigrationSqlError}, or `error` itself when it did not come
 * from the server (a lost connection is not the file's fault).
 */
export function toStatementError(error: unknown, script: MigrationScript, statement: ScriptStatement, positions: PositionUnit = 'characters'): unknown {
  if (!isDatabaseError(error)) return error;
  const { lines } = script.source;
  // The server counts 1-based characters from the start of the text it was sent (bytes, in a SQL_ASCII database).
  const position = error.position === undefined ? undefined : Number(error.position) - 1;
  const offset =
    position === undefined ? statement.start : positions === 'bytes' ? Math.min(statement.start + position, statement.end) : lines.byteOffsetAfter(statement.start, position);
  const { line, column } = lines.position(offset);
  return fromServerError(error, script.path, { line, column, snippet: snippet(lines.lineText(line), line, column) });
}

/** What the server's error positions count: characters, or bytes where the database's encoding is SQL_ASCII (no multibyte characters to it). */
export type PositionUnit = 'characters' | 'bytes';

/**
 * Turns a server error raised while writing the tracking row of `file` into a
 * {@link MigrationSqlError} naming that file; `rolledBack` says whether the
 * file's own changes went with it (they did unless it ran outside a transaction).
 */
export function toTrackingError(error: unknown, file: string, rolledBack: boolean): unknown {
  if (!isDatabaseError(error)) return error;
  const outcome = rolledBack ? 'so the migration was rolled back' : 'but the statements of the file (run outside a transaction) were kept';
  return fromServerError(error, file, undefined, `recording the migration in authdb_migrations failed, ${outcome}: `);
}

/** The same error with more said about it (a hint, what was kept). */
export function withExplanation(error: MigrationSqlError, more: Pick<SqlErrorLocation, 'hint' | 'outcome'>): MigrationSqlError {
  const hint = [error.location.hint, more.hint].filter(Boolean).join('\n');
  const outcome = [error.location.outcome, more.outcome].filter(Boolean).join('\n');
  return new MigrationSqlError({ ...error.location, ...(hint && { hint }), ...(outcome && { outcome }) }, { cause: error.cause });
}

function fromServerError(
  error: DatabaseError,
  file: string,
  at: { line: number; column: number; snippet: string } | undefined,
  prefix = '',
): MigrationSqlError {
  return new MigrationSqlError(
    {
      file,
      ...at,
      ...(error.code && { sqlState: error.code }),
      serverMessage: `${prefix}${error.message}`,
      ...(error.detail && { detail: error.detail }),
      ...(error.hint && { hint: error.hint }),
      ...(error.where && { where: error.where }),
    },
    { cause: error },
  );
}

/** A server error (as opposed to a connection or client error). */
export function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as Partial<DatabaseError>).severity === 'string';
}

function snippet(text: string, line: number, column: number): string {
  const gutter = `${line} | `;
  return `${gutter}${text}\n${' '.repeat(gutter.length + column - 1)}^`;
}
