// With track_activities off, the pg_stat_activity part of the session check
// sees nothing ('disabled'); the other checks must still refuse every run
// through a transaction pool that other clients keep busy. Needs a real PgBouncer.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

const BIN = findPgBouncer();
if (BIN === undefined) console.warn('SKIPPED test/cli/pooler-track-activities.test.ts: pgbouncer is not installed');
let db: TestDatabase;
let dir: TempDir;
let bouncer: PgBouncer;

beforeAll(async () => {
  if (BIN === undefined) return;
  [db, dir] = await Promise.all([
    createEmptyDatabase(),
    writeMigrationDir({ '20260101000001_a': { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' } }),
  ]);
  await db.pool.query(`ALTER DATABASE "${db.name}" SET track_activities = off`);
  bouncer = await startPgBouncer(BIN, db.url, { poolSize: 4 });
});
afterAll(async () => {
  if (BIN === undefined) return;
  await bouncer.stop();
  await Promise.all([db.close(), dir.remove()]);
});

it.skipIf(BIN === undefined)('track_activities off, transaction pool busy with other clients: every run refused', async () => {
  let stop = false;
  const others = Array.from({ length: 3 }, async () => {
    const client = new pg.Client({ connectionString: bouncer.transactionUrl });
    client.on('error', () => undefined);
    await client.connect();
    while (!stop) {
      await client.query('SELECT pg_catalog.pg_sleep(0.002)').catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await client.end().catch(() => undefined);
  });
  const results = [];
  try {
    for (let i = 0; i < 20; i++) results.push(await runMain(['migrate', 'up', '--database-url', bouncer.transactionUrl, '--migrations-dir', dir.path, '--schema', 'ta']));
  } finally {
    stop = true;
    await Promise.all(others);
  }
  for (const r of results) expect(r.stderr).toContain('[AUTHDB_UNSTABLE_SESSION]');
  expect(results.map((r) => r.code)).toEqual(Array(20).fill(1));
  const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
  expect(rows[0]?.n).toBe(0);
}, 300_000);
