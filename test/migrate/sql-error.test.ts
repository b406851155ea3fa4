import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { MigrationSqlError } from '../../src/migrate/errors.js';
import { toMigrationSqlError } from '../../src/migrate/sql-error.js';

const SQL = ['-- a comment', 'CREATE TABLE t (id int);', '', 'SELECT nope', '  FROM t;', ''].join('\n');

function serverError(fields: Partial<DatabaseError>): DatabaseError {
  return Object.assign(new DatabaseError(fields.message ?? 'boom', 0, 'error'), { severity: 'ERROR', ...fields });
}

describe('toMigrationSqlError', () => {
  it('maps the server position to file:line:column with a caret snippet, SQLSTATE, detail and hint', () => {
    const position = SQL.indexOf('nope') + 1;
    const error = toMigrationSqlError(
      serverError({ message: 'column "nope" does not exist', code: '42703', position: String(position), hint: 'Perhaps you meant "id".' }),
      '/m/x.up.sql',
      SQL,
    );
    expect(error).toBeInstanceOf(MigrationSqlError);
    const { location, message } = error as MigrationSqlError;
    expect(location).toMatchObject({ file: '/m/x.up.sql', line: 4, column: 8, sqlState: '42703', serverMessage: 'column "nope" does not exist' });
    expect(message).toBe(
      ['/m/x.up.sql:4:8: SQLSTATE 42703: column "nope" does not exist', '4 | SELECT nope', '           ^', 'HINT: Perhaps you meant "id".'].join('\n'),
    );
  });

  it('maps positions of CRLF files to the same line and a snippet without the carriage return', () => {
    const crlf = SQL.replace(/\n/g, '\r\n');
    const error = toMigrationSqlError(serverError({ code: '42703', position: String(crlf.indexOf('nope') + 1) }), 'f', crlf) as MigrationSqlError;
    expect(error.location).toMatchObject({ line: 4, column: 8, snippet: '4 | SELECT nope\n           ^' });
  });

  it('names the file without a line when the server gives no position', () => {
    const error = toMigrationSqlError(serverError({ message: 'division by zero', code: '22012', where: 'SQL function "f"' }), '/m/x.up.sql', SQL);
    expect((error as MigrationSqlError).message).toBe('/m/x.up.sql: SQLSTATE 22012: division by zero\nCONTEXT: SQL function "f"');
  });

  it('passes errors that are not from the server through unchanged', () => {
    const error = new Error('socket hang up');
    expect(toMigrationSqlError(error, 'f', SQL)).toBe(error);
  });
});
