import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// A migration statement that waits longer than --ddl-lock-timeout behind
// another transaction fails with SQLSTATE 55P03 and names the sessions that
// blocked it, so the DBA knows whom to wait for or end.

const TABLE = '20260101000001_users';
const ALTER = '20260101000002_alter';

let db: TestDatabase;
let dir: TempDir;

beforeAll(async () => {
  [db, dir] = await Promise.all([
    createEmptyDatabase(),
    writeMigrationDir({
      [TABLE]: { up: 'CREATE TABLE users (id int, email text);\n', down: 'DROP TABLE users;\n' },
      [ALTER]: { up: '-- a comment\nALTER TABLE users ADD COLUMN nickname text;\n', down: 'ALTER TABLE users DROP COLUMN nickname;\n' },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([db.close(), dir.remove()]);
});

describe('a migration blocked by another transaction', () => {
  it('fails after --ddl-lock-timeout naming the blocking session: pid, application, user, state, transaction age, query', async () => {
    const base = ['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path];
    expect((await runMain([...base, '--to', TABLE])).code).toBe(0);

    const reader = new pg.Client({ connectionString: db.url, application_name: 'reporting job' });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM users WHERE email IS NOT NULL'); // ACCESS SHARE until the transaction ends
      const { rows } = await reader.query<{ pid: number; user: string }>('SELECT pg_backend_pid() AS pid, current_user AS user');
      const blocker = rows[0];

      const result = await runMain([...base, '--ddl-lock-timeout', '1s']);

      expect(result.stderr).toContain(`${dir.path}/${ALTER}.up.sql`);
      expect(result.stderr).toContain('SQLSTATE 55P03: canceling statement due to lock timeout');
      expect(result.stderr).toContain('blocked by this session:');
      expect(result.stderr).toMatch(
        new RegExp(
          `pid ${blocker?.pid}, application "reporting job", user ${blocker?.user}, idle in transaction, transaction open for [0-9.]+ s, ` +
            'query: SELECT pg_backend_pid\\(\\) AS pid, current_user AS user',
        ),
      );
      expect(result.stderr).toContain(`SELECT pg_terminate_backend(${blocker?.pid});`);
      expect(result.stderr).toContain('raise --ddl-lock-timeout');
      expect(result.code).toBe(1);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
  });
});
