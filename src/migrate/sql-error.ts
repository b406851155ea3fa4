import type { DatabaseError } from 'pg';
import { MigrationSqlError } from './errors.js';
import { lineAndColumn } from './migration-file.js';

/**
 * Turns a server error raised while running `sql` (the contents of `file`)
 * into a located error. `offset` is where, in `sql`, the statement that failed
 * starts when it was sent on its own (the server counts from there).
 * Returns a {@link MigrationSqlError}, or `error` itself when it did not come
 * from the server.
 */
export function toMigrationSqlError(error: unknown, file: string, sql: string, offset = 0): unknown {
  if (!isDatabaseError(error)) return error;
  const position = error.position === undefined ? undefined : Number(error.position) + offset;
  const at = position === undefined ? undefined : lineAndColumn(sql, position);
  return fromServerError(error, file, at && { line: at.line, column: at.column, snippet: snippet(sql, at.line, at.column) });
}

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

function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as Partial<DatabaseError>).severity === 'string';
}

function snippet(sql: string, line: number, column: number): string {
  const text = sql.split('\n')[line - 1]?.replace(/\r$/, '') ?? '';
  const gutter = `${line} | `;
  return `${gutter}${text}\n${' '.repeat(gutter.length + column - 1)}^`;
}
