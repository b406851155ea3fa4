import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationSqlError } from '../../src/migrate/errors.js';
import { Migrator } from '../../src/migrate/migrator.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// Each migration runs in its own transaction together with its
// authdb_migrations row: a failure anywhere in a file, or while recording it,
// leaves nothing of that file behind and keeps the migrations before it.

const FIRST = '20260101000001_first';
const SECOND = '20260101000002_second';
const THIRD = '20260101000003_third';

const FAILING_SECOND = [
  '-- creates a table, then fails halfway',
  'CREATE TABLE second_t (id int PRIMARY KEY);',
  "INSERT INTO second_t VALUES (1);",
  'CREATE INDEX second_t_id ON second_t (id);',
  '',
  '-- the next statement fails: line 7, column 8',
  'SELECT no_such_column FROM second_t;',
  'CREATE TABLE never_created (id int);',
  '',
].join('\n');

let db: TestDatabase;
let client: pg.Client;
const dirs: TempDir[] = [];

beforeAll(async () => {
  db = await createEmptyDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await db.close();
  await Promise.all(dirs.map((d) => d.remove()));
});

async function fixture(migrations: Parameters<typeof writeMigrationDir>[0]): Promise<string> {
  const dir = await writeMigrationDir(migrations);
  dirs.push(dir);
  return dir.path;
}

async function reset(schema: string): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

async function tables(schema: string): Promise<string[]> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind IN ('r', 'i') ORDER BY relname`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

async function trackedNames(schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${schema}.authdb_migrations ORDER BY name`);
  return rows.map((r) => r.name);
}

describe('a migration that fails halfway', () => {
  it('leaves no object of the failing file and no tracking row, keeps the one before, and reports file, SQLSTATE and line', async () => {
    await reset('tx_fail');
    const dir = await fixture({
      [FIRST]: { up: 'CREATE TABLE first_t (id int);\n', down: 'DROP TABLE first_t;\n' },
      [SECOND]: { up: FAILING_SECOND, down: 'DROP TABLE second_t;\n' },
      [THIRD]: { up: 'CREATE TABLE third_t (id int);\n', down: 'DROP TABLE third_t;\n' },
    });
    const migrator = new Migrator({ client, schema: 'tx_fail', migrationsDir: dir });

    const error = await migrator.up().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationSqlError);
    const { location } = error as MigrationSqlError;
    expect(location).toMatchObject({ file: `${dir}/${SECOND}.up.sql`, line: 7, column: 8, sqlState: '42703' });
    expect((error as Error).message).toMatch(new RegExp(`^${dir}/${SECOND}\\.up\\.sql:7:8: SQLSTATE 42703: column "no_such_column" does not exist`));
    expect(await tables('tx_fail')).toEqual(['authdb_migrations', 'authdb_migrations_pkey', 'first_t']);
    expect(await trackedNames('tx_fail')).toEqual([FIRST]);
    expect((await migrator.status()).map((s) => s.state)).toEqual(['applied', 'pending', 'pending']);
    // The session is usable again: no transaction was left open.
    expect(client.getTransactionStatus()).toBe('I');
  });

  it('rolls back a down migration that fails, keeping its tracking row', async () => {
    await reset('tx_down');
    const dir = await fixture({
      [FIRST]: { up: 'CREATE TABLE first_t (id int);\n', down: 'DROP TABLE first_t;\nSELECT 1/0;\n' },
    });
    const migrator = new Migrator({ client, schema: 'tx_down', migrationsDir: dir });
    await migrator.up();

    const error = await migrator.down().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationSqlError);
    expect((error as MigrationSqlError).location).toMatchObject({ file: `${dir}/${FIRST}.down.sql`, sqlState: '22012' });
    expect(await tables('tx_down')).toContain('first_t');
    expect(await trackedNames('tx_down')).toEqual([FIRST]);
  });
});

describe('the tracking row', () => {
  it('is written in the migration transaction: when recording fails, the migration is rolled back too', async () => {
    await reset('tx_log');
    // The file succeeds, but makes its own tracking INSERT fail.
    const sabotage = [
      'CREATE TABLE sabotage_t (id int);',
      `ALTER TABLE authdb_migrations ADD CONSTRAINT no_second CHECK (name <> '${SECOND}');`,
    ].join('\n');
    const dir = await fixture({
      [FIRST]: { up: 'CREATE TABLE first_t (id int);\n', down: 'DROP TABLE first_t;\n' },
      [SECOND]: { up: sabotage, down: 'DROP TABLE sabotage_t;\n' },
    });
    const migrator = new Migrator({ client, schema: 'tx_log', migrationsDir: dir });

    const error = await migrator.up().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationSqlError);
    expect((error as Error).message).toContain(`${dir}/${SECOND}.up.sql: SQLSTATE 23514: recording the migration in authdb_migrations failed, so the migration was rolled back: `);
    expect((error as MigrationSqlError).location.sqlState).toBe('23514');
    expect(await tables('tx_log')).toEqual(['authdb_migrations', 'authdb_migrations_pkey', 'first_t']);
    const { rows } = await client.query(`SELECT conname FROM pg_constraint WHERE conname = 'no_second'`);
    expect(rows).toEqual([]);
    expect(await trackedNames('tx_log')).toEqual([FIRST]);
    expect(client.getTransactionStatus()).toBe('I');
  });

});
