// A no-transaction down that fails partway: the history still lists the
// migration as applied, and the error says so, and what the schema lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

let db: TestDatabase;
let dir: TempDir;
const NAME = '20260101000001_two_tables';

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir({
    [NAME]: {
      up: '-- authdb:no-transaction\nCREATE TABLE first_t (id int);\nCREATE TABLE second_t (id int);\n',
      // Line 3 names a table that does not exist: the down stops there, after line 2 dropped first_t.
      down: '-- authdb:no-transaction\nDROP TABLE first_t;\nDROP TABLE second_typo;\nDROP TABLE second_t;\n',
    },
  });
});

afterAll(async () => {
  await dir.remove();
  await db.close();
});

const cli = (...args: string[]): ReturnType<typeof runMain> => runMain([...args, '--database-url', db.url, '--schema', 'half', '--migrations-dir', dir.path]);

const tables = async (): Promise<string[]> =>
  (await db.pool.query<{ t: string }>(`SELECT relname AS t FROM pg_class WHERE relnamespace = 'half'::regnamespace AND relname LIKE '%\\_t' ORDER BY 1`)).rows.map((r) => r.t);

describe('a no-transaction down that fails halfway', () => {
  it('says the migration stays recorded as applied and its schema is partly reverted, as status and the tables show', async () => {
    expect((await cli('migrate', 'up')).code).toBe(0);
    const down = await cli('migrate', 'down');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('1 of its 3 statements completed and were kept (line 2); the statement at line 3 failed; 1 after it did not run (line 4).');
    expect(down.stderr).toContain('The migration stays recorded as applied (migrate status lists it as applied, and up sees nothing to do), but its schema is only partly reverted');
    expect(down.stderr).not.toContain('not recorded as applied');
    expect(await tables()).toEqual(['second_t']);
    const status = await cli('migrate', 'status');
    expect(status.stdout).toMatch(new RegExp(`^applied\\s+${NAME}`, 'm'));
  });

  it('a down whose first statement fails: recorded as applied, schema as the up left it', async () => {
    await db.pool.query('CREATE TABLE half.first_t (id int)');
    await db.pool.query('ALTER TABLE half.first_t RENAME TO first_renamed_t');
    const down = await cli('migrate', 'down');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('0 of its 3 statements completed and were kept; the statement at line 2 failed');
    expect(down.stderr).toContain('The migration stays recorded as applied (migrate status lists it as applied, and up sees nothing to do), and its schema is as the up left it: nothing of the down completed.');
  });
});
