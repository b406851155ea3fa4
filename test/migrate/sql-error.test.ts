import { DatabaseError } from 'pg';
import { describe, expect, it } from 'vitest';
import { MigrationSqlError } from '../../src/migrate/errors.js';
import { prepareScripts, type MigrationScript } from '../../src/migrate/migration-script.js';
import { toStatementError } from '../../src/migrate/sql-error.js';
import { decodeSql } from '../../src/sql/sql-source.js';

const SQL = ['-- a comment', 'CREATE TABLE t (id int);', '', 'SELECT nope', '  FROM t;', ''].join('\n');

function serverError(fields: Partial<DatabaseError>): DatabaseError {
  return Object.assign(new DatabaseError(fields.message ?? 'boom', 0, 'error'), { severity: 'ERROR', ...fields });
}

async function script(sql: string, path = '/m/x.up.sql'): Promise<MigrationScript> {
  const decoded = decodeSql(path, Buffer.from(sql, 'utf8'));
  if (!decoded.ok) throw new Error(decoded.problem.message);
  const [prepared] = await prepareScripts([decoded.source]);
  if (!prepared) throw new Error('not prepared');
  return prepared;
}

function statement(s: MigrationScript, index: number): MigrationScript['statements'][number] {
  const found = s.statements[index];
  if (!found) throw new Error(`no statement ${index}`);
  return found;
}

describe('toStatementError', () => {
  it('maps the server position inside a statement to file:line:column with a caret snippet, SQLSTATE, detail and hint', async () => {
    const s = await script(SQL);
    // The server counts from the start of the statement it was sent: "SELECT nope\n  FROM t".
    const error = toStatementError(
      serverError({ message: 'column "nope" does not exist', code: '42703', position: '8', hint: 'Perhaps you meant "id".' }),
      s,
      statement(s, 1),
    );
    expect(error).toBeInstanceOf(MigrationSqlError);
    const { location, message } = error as MigrationSqlError;
    expect(location).toMatchObject({ file: '/m/x.up.sql', line: 4, column: 8, sqlState: '42703', serverMessage: 'column "nope" does not exist' });
    expect(message).toBe(
      ['/m/x.up.sql:4:8: SQLSTATE 42703: column "nope" does not exist', '4 | SELECT nope', '           ^', 'HINT: Perhaps you meant "id".'].join('\n'),
    );
  });

  it('counts the server position in characters, after multi-byte text, in CRLF files', async () => {
    const s = await script("SELECT 'é🙂', nope\r\n  FROM t;\r\n");
    const error = toStatementError(serverError({ code: '42703', position: '14' }), s, statement(s, 0)) as MigrationSqlError;
    expect(error.location).toMatchObject({ line: 1, column: 14, snippet: "1 | SELECT 'é🙂', nope\n                 ^" });
  });

  it('locates an error without a server position at the first token of its statement', async () => {
    const s = await script(SQL);
    const error = toStatementError(serverError({ message: 'division by zero', code: '22012', where: 'SQL function "f"' }), s, statement(s, 1));
    expect((error as MigrationSqlError).message).toBe(
      ['/m/x.up.sql:4:1: SQLSTATE 22012: division by zero', '4 | SELECT nope', '    ^', 'CONTEXT: SQL function "f"'].join('\n'),
    );
  });

  it('passes errors that are not from the server through unchanged', async () => {
    const s = await script(SQL);
    const error = new Error('socket hang up');
    expect(toStatementError(error, s, statement(s, 0))).toBe(error);
  });
});
