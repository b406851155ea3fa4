import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationSqlError } from '../../src/migrate/errors.js';
import { Migrator } from '../../src/migrate/migrator.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// Statements run one per Parse message (in pipelines of up to 500), and the
// engine counts the ones that completed, so errors the server reports without
// a position (unique violation, statement or lock timeout, permission denied)
// still name the failing statement's file:line; a no-transaction file that
// fails halfway says what was kept, and names the INVALID index a failed
// CREATE INDEX CONCURRENTLY leaves behind.

const A = '20260101000001_a';
const B = '20260101000002_b';
const TABLE = { up: "CREATE TABLE items (id int PRIMARY KEY, code text);\nINSERT INTO items VALUES (1, 'a'), (2, 'a');\n", down: 'DROP TABLE items;\n' };

let db: TestDatabase;
const dirs: TempDir[] = [];
const clients: pg.Client[] = [];
const role = `authdb_limited_${randomBytes(4).toString('hex')}`;
let schemaIndex = 0;

beforeAll(async () => {
  db = await createEmptyDatabase();
  await db.pool.query(`CREATE ROLE ${role} NOLOGIN`);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await db.close();
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
  await Promise.all(dirs.map((d) => d.remove()));
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  clients.push(client);
  return client;
}

/** Runs `up` of A (the items table) then B; resolves to B's error. */
async function failingUp(bUp: string, options: { ddlLockTimeoutMs?: number } = {}): Promise<{ error: MigrationSqlError; path: string; schema: string }> {
  const dir = await writeMigrationDir({ [A]: TABLE, [B]: { up: bUp, down: 'SELECT 1;\n' } });
  dirs.push(dir);
  const schema = `stmt_${++schemaIndex}`;
  const migrator = new Migrator({ client: await connect(), schema, migrationsDir: dir.path, ...options });
  const error = await migrator.up().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MigrationSqlError);
  return { error: error as MigrationSqlError, path: `${dir.path}/${B}.up.sql`, schema };
}

describe('errors without a server position are located at their statement', () => {
  it('a unique violation', async () => {
    const { error, path } = await failingUp("UPDATE items SET code = 'b' WHERE id = 2;\n\n  INSERT INTO items VALUES (3, 'c'),\n    (1, 'd');\n");
    expect(error.location).toMatchObject({ file: path, line: 3, column: 3, sqlState: '23505' });
    expect(error.message).toMatch(new RegExp(`^${path}:3:3: SQLSTATE 23505: duplicate key value violates unique constraint "items_pkey"\\n3 \\|   INSERT INTO items`));
    expect(error.message).toContain('The migration was rolled back: nothing of this file was kept');
  });

  it('permission denied', async () => {
    const { error } = await failingUp(`SET LOCAL ROLE ${role};\n-- only superusers may read pg_authid\nSELECT count(*) FROM pg_catalog.pg_authid;\n`);
    expect(error.location).toMatchObject({ line: 3, column: 1, sqlState: '42501' });
  });

  it('a lock timeout behind another transaction', async () => {
    const dir = await writeMigrationDir({ [A]: TABLE });
    dirs.push(dir);
    const schema = `stmt_${++schemaIndex}`;
    await new Migrator({ client: await connect(), schema, migrationsDir: dir.path }).up();
    const blocker = await connect();
    await blocker.query(`BEGIN; SELECT * FROM ${schema}.items`);
    try {
      const more = await writeMigrationDir({ [A]: TABLE, [B]: { up: 'SELECT 1;\nALTER TABLE items ADD COLUMN qty int;\n', down: 'SELECT 1;\n' } });
      dirs.push(more);
      const error = await new Migrator({ client: await connect(), schema, migrationsDir: more.path, ddlLockTimeoutMs: 100 }).up().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationSqlError);
      expect((error as MigrationSqlError).location).toMatchObject({ line: 2, column: 1, sqlState: '55P03' });
    } finally {
      await blocker.query('ROLLBACK');
    }
  });
});

describe('a file of more statements than one round trip sends (they go in pipelines)', () => {
  const inserts = (from: number, count: number): string => Array.from({ length: count }, (_, i) => `INSERT INTO items VALUES (${from + i}, 'n');\n`).join('');

  it('a unique violation deep in the file is located at its own line, and nothing of the file is kept', async () => {
    // Line 1234 inserts id 1 again (the table holds 1 and 2).
    const { error, path, schema } = await failingUp(`${inserts(3, 1233)}INSERT INTO items VALUES (1, 'dup');\n${inserts(5000, 900)}`);
    expect(error.location).toMatchObject({ file: path, line: 1234, column: 1, sqlState: '23505' });
    expect(error.message).toContain("1234 | INSERT INTO items VALUES (1, 'dup');");
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.items`);
    expect(rows).toEqual([{ n: '2' }]);
  });

  it('a server position inside a pipelined statement is mapped to its line and column', async () => {
    const { error } = await failingUp(`${inserts(3, 700)}SELECT nosuchcolumn FROM items;\n`);
    expect(error.location).toMatchObject({ line: 701, column: 8, sqlState: '42703' });
  });

  it('a statement the server refuses at Bind (a $1 with no value, 08P01) is located at its line, not taken for a lost connection', async () => {
    const { error, schema } = await failingUp('CREATE TABLE kept_t (a int);\nSELECT $1::int;\n');
    expect(error.location).toMatchObject({ line: 2, column: 1, sqlState: '08P01' });
    expect(error.message).toContain('The migration was rolled back');
    const { rows } = await db.pool.query(`SELECT to_regclass('${schema}.kept_t') AS t`);
    expect(rows).toEqual([{ t: null }]);
  });

  it('an ERROR whose code or text looks like a lost connection (a RAISE) is the statement\'s error, at its line', async () => {
    for (const raise of ["RAISE EXCEPTION 'upstream said ECONNRESET' USING ERRCODE = '57P03'", "RAISE EXCEPTION 'Connection terminated by policy'"]) {
      const { error } = await failingUp(`SELECT 1;\nDO $$ BEGIN ${raise}; END $$;\n`);
      expect(error.location).toMatchObject({ line: 2, column: 1 });
      expect(error.code).toBe('AUTHDB_SQL');
    }
  });

  it('statement_timeout applies to each statement, not to the pipeline: many short statements outlast it together', async () => {
    await db.pool.query(`ALTER DATABASE ${db.name} SET statement_timeout = '1s'`);
    try {
      // 600 sleeps of 5 ms: 3 s at least in all, each far below the timeout.
      const dir = await writeMigrationDir({ [A]: TABLE, [B]: { up: 'SELECT pg_sleep(0.005);\n'.repeat(600), down: 'SELECT 1;\n' } });
      dirs.push(dir);
      const run = await new Migrator({ client: await connect(), schema: `stmt_${++schemaIndex}`, migrationsDir: dir.path }).up();
      expect(run.names).toEqual([A, B]);
    } finally {
      await db.pool.query(`ALTER DATABASE ${db.name} RESET statement_timeout`);
    }
  });
});

describe('a SQL_ASCII database, where the server counts error positions in bytes', () => {
  it('locates the error at its line and column although multibyte text comes before it', async () => {
    const ascii = await createEmptyDatabase("ENCODING 'SQL_ASCII' LOCALE 'C'");
    const client = new pg.Client({ connectionString: ascii.url });
    await client.connect();
    try {
      const dir = await writeMigrationDir({ [A]: { up: "CREATE TABLE t (a text);\nSELECT 'éééééééééééééééééééé', 1,\n  nosuchcol FROM t;\n", down: 'SELECT 1;\n' } });
      dirs.push(dir);
      const error = await new Migrator({ client, schema: 'public', migrationsDir: dir.path }).up().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationSqlError);
      expect((error as MigrationSqlError).location).toMatchObject({ line: 3, column: 3, sqlState: '42703' });
    } finally {
      await client.end();
      await ascii.close();
    }
  });
});

describe('a statement_timeout set outside the file', () => {
  for (const scope of ['database', 'role in database'] as const) {
    it(`on the ${scope}: the error names the statement's line and the hint says where the timeout comes from and how to lift it`, async () => {
      const set = scope === 'database' ? `ALTER DATABASE ${db.name}` : `ALTER ROLE CURRENT_USER IN DATABASE ${db.name}`;
      await db.pool.query(`${set} SET statement_timeout = '150ms'`);
      try {
        const { error } = await failingUp('SELECT 1;\nSELECT pg_sleep(30);\n');
        expect(error.location).toMatchObject({ line: 2, column: 1, sqlState: '57014' });
        const origin = scope === 'database' ? `it is set on the database "${db.name}" (ALTER DATABASE "${db.name}" SET statement_timeout = '150ms')` : `in database "${db.name}"`;
        expect(error.location.hint).toContain('statement_timeout is 150ms for this session: ');
        expect(error.location.hint).toContain(origin);
        expect(error.location.hint).toContain("PGOPTIONS='-c statement_timeout=0'");
      } finally {
        await db.pool.query(`${set} RESET statement_timeout`);
      }
    });
  }
});

describe('a no-transaction file that fails halfway', () => {
  const CIC = [
    '-- authdb:no-transaction',
    "UPDATE items SET code = 'x' WHERE id = 1;",
    'CREATE INDEX CONCURRENTLY items_id_idx ON items (id);',
    'CREATE UNIQUE INDEX CONCURRENTLY items_code_key ON items (code);',
    'CREATE INDEX CONCURRENTLY items_code_id_idx ON items (code, id);',
    '',
  ].join('\n');

  it('says which statements were kept, which failed and which did not run, and names the INVALID index to drop', async () => {
    const { error, path, schema } = await failingUp(CIC.replace("'x'", "'a'"));

    expect(error.location).toMatchObject({ file: path, line: 4, sqlState: '23505' });
    expect(error.message).toContain('2 of its 4 statements completed and were kept (lines 2–3); the statement at line 4 failed; 1 after it did not run (line 5)');
    const drop = `DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."items_code_key";`;
    expect(error.message).toContain(drop);
    const invalid = `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relnamespace = to_regnamespace('${schema}')`;
    expect((await db.pool.query(invalid)).rows).toEqual([{ relname: 'items_code_key' }]);

    // A rerun of the unchanged file fails again (the data is still duplicate); the fix is the statement printed.
    const client = await connect();
    await client.query(drop);
    await client.query(`UPDATE ${schema}.items SET code = id::text`);
    expect((await db.pool.query(invalid)).rows).toEqual([]);
  });

  it('names the leftover INVALID index when a rerun fails with "already exists"', async () => {
    const { schema, path } = await failingUp(CIC.replace("'x'", "'a'"));
    const dir = path.slice(0, path.lastIndexOf('/'));
    const migrator = new Migrator({ client: await connect(), schema, migrationsDir: dir });
    await (await connect()).query(`UPDATE ${schema}.items SET code = id::text; DROP INDEX ${schema}.items_id_idx`);
    const error = (await migrator.up().catch((e: unknown) => e)) as MigrationSqlError;
    expect(error.location).toMatchObject({ line: 4, sqlState: '42P07' });
    expect(error.message).toContain(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}"."items_code_key";`);
  });
});
