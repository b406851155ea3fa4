import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator } from '../../src/migrate/migrator.js';
import { MigrationInterruptedError } from '../../src/migrate/run-faults.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// After a file's last statement, authdb makes round trips of its own before
// COMMIT: it takes back what default privileges gave other roles on the
// objects the file created (one REVOKE each), then writes the history row. A
// cancel request that reaches the server between two of them is not acted on,
// so the engine itself must look for the interrupt before the history row and
// before COMMIT: an interrupted file never commits. The interrupt arrives here
// exactly during a REVOKE: an event trigger on REVOKE raises a NOTICE, and the
// test interrupts the run when the client receives it (no timing involved).

const TABLES = '20260101000001_tables';

let db: TestDatabase;
let dir: TempDir;

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir({
    [TABLES]: { up: 'CREATE TABLE a_t (id int);\nCREATE TABLE b_t (id int);\n', down: 'DROP TABLE b_t;\nDROP TABLE a_t;\n' },
  });
  await db.pool.query(`
    ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
    CREATE FUNCTION public.note_revoke() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'authdb-test: revoke ran'; END $$;
    CREATE EVENT TRIGGER note_revoke ON ddl_command_end WHEN TAG IN ('REVOKE') EXECUTE FUNCTION public.note_revoke();`);
});

afterAll(async () => {
  await db.pool.query('DROP EVENT TRIGGER IF EXISTS note_revoke');
  await db.close();
  await dir.remove();
});

describe('an interrupt during authdb’s own round trips after the last statement', () => {
  it('rolls the file back: no table, no history row, AUTHDB_INTERRUPTED saying it stopped before committing', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Armed once the file runs: the tracking table's own REVOKEs come before it.
      let running = false;
      const migrator = new Migrator({ client, schema: 'tables', migrationsDir: dir.path, onEvent: (event) => (running ||= event.type === 'started') });
      let interrupted = 0;
      client.on('notice', (notice) => {
        if (running && notice.message === 'authdb-test: revoke ran' && interrupted++ === 0) migrator.interrupt('SIGINT');
      });

      const error = await migrator.up().catch((e: unknown) => e);

      expect(interrupted).toBeGreaterThan(0);
      expect(error).toBeInstanceOf(MigrationInterruptedError);
      expect((error as Error).message).toContain('the run stopped after its last statement, before committing');
      expect((error as Error).message).toContain('nothing of 20260101000001_tables was kept');
      const { rows } = await db.pool.query<{ a: string | null; history: string | null }>(
        "SELECT to_regclass('tables.a_t')::text AS a, to_regclass('tables.authdb_migrations')::text AS history",
      );
      expect(rows[0]?.a).toBeNull();
      if (rows[0]?.history) expect((await db.pool.query('SELECT name FROM tables.authdb_migrations')).rows).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
