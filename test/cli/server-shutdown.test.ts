import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { runMain } from '../support/cli.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { waitFor } from '../support/wait.js';

// The server shuts down (fast shutdown) while a migration runs: the CLI
// reports the server's SQLSTATE and message, the file and what was kept,
// not pg's "not queryable" error from the ROLLBACK on the dead connection.
// A cluster of its own, since this test stops it.

const TABLE = '20260101000001_table';
const SLOW = '20260101000002_slow';

let dir: string;
let cluster: EmbeddedCluster;
let migrations: TempDir;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authdb-test-shutdown-'));
  cluster = new EmbeddedCluster({ dir, ephemeral: true });
  migrations = await writeMigrationDir({
    [TABLE]: { up: 'CREATE TABLE users_t (id int);\n', down: 'DROP TABLE users_t;\n' },
    [SLOW]: { up: 'ALTER TABLE users_t ADD COLUMN nickname text;\nSELECT pg_sleep(60);\n', down: 'ALTER TABLE users_t DROP COLUMN nickname;\n' },
  });
  await cluster.initialise();
  await cluster.start();
});

afterAll(async () => {
  await cluster.stop();
  await Promise.all([rm(dir, { recursive: true, force: true }), migrations.remove()]);
});

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: await cluster.superuserUrl() });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the server shuts down while a migration runs', () => {
  it("reports the server's SQLSTATE 57P01, the file and that nothing of the migration was kept; exit 1", async () => {
    const url = await cluster.superuserUrl();
    const base = ['migrate', 'up', '--database-url', url, '--migrations-dir', migrations.path];
    expect((await runMain([...base, '--to', TABLE])).code).toBe(0);

    const result = runMain(base);
    await waitFor('the migration to sleep', async () => {
      const rows = await query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()`);
      return rows[0]?.n === 1;
    }, { limitMs: 50_000 });
    await cluster.stop();
    const { code, stderr } = await result;

    expect(stderr).toContain(`the connection to the server was lost while running ${SLOW} (up: ${migrations.path}/${SLOW}.up.sql): SQLSTATE 57P01: terminating connection due to administrator command`);
    expect(stderr).toContain(`nothing of ${SLOW} was kept, and it is not recorded as applied`);
    expect(stderr).toContain('[AUTHDB_CONNECTION_LOST]');
    expect(stderr).not.toContain('not queryable');
    expect(code).toBe(1);

    await cluster.start();
    expect(await query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name')).toEqual([{ name: TABLE }]);
    expect(await query(`SELECT attname FROM pg_attribute WHERE attrelid = 'users_t'::regclass AND attname = 'nickname'`)).toEqual([]);
  });
});
