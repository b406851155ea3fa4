import type { DatabaseError } from 'pg';
import { MigrationSqlError } from './errors.js';
import { lineAndColumn } from './migration-file.js';

/** Turns a server error raised while running `sql` (the contents of `file`) into a located error. */
export function toMigrationSqlError(error: unknown, file: string, sql: string): unknown {
  if (!isDatabaseError(error)) return error;
  const position = error.position === undefined ? undefined : Number(error.position);
  const at = position === undefined ? undefined : lineAndColumn(sql, position);
  return new MigrationSqlError(
    {
      file,
      ...(at && { line: at.line, column: at.column, snippet: snippet(sql, at.line, at.column) }),
      ...(error.code && { sqlState: error.code }),
      serverMessage: error.message,
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
