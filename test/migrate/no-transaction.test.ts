import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationSqlError } from '../../src/migrate/errors.js';
import { Migrator, type MigratorEvent } from '../../src/migrate/migrator.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { waitFor } from '../support/wait.js';

// "-- authdb:no-transaction" files run in autocommit mode, one statement at a
// time, so CREATE INDEX CONCURRENTLY works; and the lock waiter polls with
// pg_try_advisory_lock, so it holds no snapshot that CIC would wait for.

const TABLE = '20260101000001_table';
const INDEXES = '20260101000002_indexes';

const MIGRATIONS = {
  [TABLE]: {
    up: 'CREATE TABLE items (id int PRIMARY KEY, code text, qty int);\nINSERT INTO items SELECT g, g::text, g FROM generate_series(1, 1000) g;\n',
    down: 'DROP TABLE items;\n',
  },
  [INDEXES]: {
    up: [
      '-- authdb:no-transaction',
      '-- Two statements: sent together they would form one implicit transaction.',
      'CREATE INDEX CONCURRENTLY items_code_idx ON items (code);',
      "CREATE INDEX CONCURRENTLY items_qty_idx ON items (qty) WHERE qty > 0 AND code <> ';';",
      '',
    ].join('\n'),
    down: '-- authdb:no-transaction\nDROP INDEX CONCURRENTLY items_qty_idx;\nDROP INDEX CONCURRENTLY items_code_idx;\n',
  },
};

let db: TestDatabase;
let dir: TempDir;
const clients: pg.Client[] = [];

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir(MIGRATIONS);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await db.close();
  await dir.remove();
});

async function connect(applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url, application_name: applicationName });
  await client.connect();
  clients.push(client);
  return client;
}

async function validIndexes(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relnamespace = to_regnamespace($1) AND i.indisvalid AND c.relname LIKE 'items\\_%\\_idx' ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.name);
}

describe('-- authdb:no-transaction', () => {
  it('applies CREATE INDEX CONCURRENTLY statements, tracks the file, and reverts with DROP INDEX CONCURRENTLY', async () => {
    const client = await connect('cic');
    const migrator = new Migrator({ client, schema: 'cic_plain', migrationsDir: dir.path });

    expect((await migrator.up()).names).toEqual([TABLE, INDEXES]);

    expect(await validIndexes('cic_plain')).toEqual(['items_code_idx', 'items_qty_idx']);
    expect((await migrator.status()).map((s) => [s.name, s.state])).toEqual([
      [TABLE, 'applied'],
      [INDEXES, 'applied'],
    ]);
    // Session settings made for the file do not leak into the next one.
    const { rows } = await client.query<{ search_path: string }>('SHOW search_path');
    expect(rows[0]?.search_path).toBe('"$user", public');

    await migrator.down();
    expect(await validIndexes('cic_plain')).toEqual([]);
    expect((await migrator.status()).map((s) => s.state)).toEqual(['applied', 'pending']);
  });

  it('maps an error in a later statement to its line in the file', async () => {
    const bad = await writeMigrationDir({
      [INDEXES]: { up: '-- authdb:no-transaction\nCREATE TABLE ok_t (id int);\n\nSELECT 1;  SELECT id, nope FROM ok_t;\n', down: '' },
    });
    try {
      const migrator = new Migrator({ client: await connect('cic-bad'), schema: 'cic_bad', migrationsDir: bad.path });
      const error = await migrator.up().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationSqlError);
      expect((error as MigrationSqlError).location).toMatchObject({ line: 4, column: 23, sqlState: '42703' });
      expect((await migrator.status()).map((s) => s.state)).toEqual(['pending']);
    } finally {
      await bad.remove();
    }
  });

  it('completes while a second migrator waits for the lock, well within the lock timeouts', async () => {
    // The holder's first migration waits for the test's gate (a bigint advisory lock, apart from
    // the migration lock's int4 pair), so the waiter is certainly polling by the time the CIC file runs.
    const GATE_KEY = 4_242_002;
    const gated = await writeMigrationDir({
      ...MIGRATIONS,
      [TABLE]: { ...MIGRATIONS[TABLE], up: `${MIGRATIONS[TABLE].up}SELECT pg_advisory_xact_lock(${GATE_KEY});\n` },
    });
    try {
      const events: MigratorEvent[] = [];
      // A CIC that waited for the polling waiter would fail after ddlLockTimeoutMs (lock_timeout covers that
      // wait), or deadlock with it; the waiter would give up after lockTimeoutMs. Both outlast any load.
      const options = { schema: 'cic_busy', migrationsDir: gated.path, lockTimeoutMs: 50_000, ddlLockTimeoutMs: 40_000 } as const;
      const gate = await connect('gate');
      await gate.query('SELECT pg_advisory_lock($1::bigint)', [GATE_KEY]);
      const holder = new Migrator({ ...options, client: await connect('holder') });
      const waiter = new Migrator({ ...options, client: await connect('waiter'), onEvent: (event) => events.push(event) });

      const holding = holder.up();
      // The holder holds the migration lock and waits at the gate.
      const atGate = `SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                       WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = $1 AND l.objsubid = 1 AND d.datname = current_database()`;
      await waitFor('the holder to reach the gate', async () => (await db.pool.query(atGate, [GATE_KEY])).rowCount === 1, { pollMs: 10 });
      const waiting = waiter.up();
      await waitFor('the waiter to report its lock wait', () => events.length > 0, { pollMs: 10 });
      await gate.query('SELECT pg_advisory_unlock($1::bigint)', [GATE_KEY]);

      const [held, waited] = await Promise.all([holding, waiting]);
      expect(held.names).toEqual([TABLE, INDEXES]);
      expect(waited.names).toEqual([]);
      expect(events).toEqual([{ type: 'lock-wait', holder: expect.objectContaining({ applicationName: 'holder' }) as unknown }]);
      expect(await validIndexes('cic_busy')).toEqual(['items_code_idx', 'items_qty_idx']);
    } finally {
      await gated.remove();
    }
  }, 120_000);
});
