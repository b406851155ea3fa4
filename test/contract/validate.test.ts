import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Migrator } from '../../src/migrate/migrator.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, writeMigrations, type TempDir } from '../support/migration-fixtures.js';

// `migrate validate` compares authdb_migrations with the files. Each test
// applies fixture migrations in a schema of its own, then changes a file or
// the tracking table the way a real mistake would.

const A = '20260101000001_a';
const B = '20260101000002_b';
const C = '20260101000003_c';
const MIGRATIONS = {
  [A]: { up: '-- first\nCREATE TABLE a (id int);\n', down: 'DROP TABLE a;\n' },
  [B]: { up: '-- second\nCREATE TABLE b (id int);\n', down: 'DROP TABLE b;\n' },
};

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

/** A fixture directory with A and B applied in `schema`. */
async function applied(schema: string): Promise<string> {
  const dir = await writeMigrationDir(MIGRATIONS);
  dirs.push(dir);
  await new Migrator({ client, schema, migrationsDir: dir.path }).up();
  return dir.path;
}

function validate(schema: string, dir: string, ...args: string[]): ReturnType<typeof runMain> {
  return runMain(['migrate', 'validate', '--database-url', db.url, '--schema', schema, '--migrations-dir', dir, ...args]);
}

describe('authdb migrate validate', () => {
  it('passes when the applied files are unchanged, and a CRLF-only edit is not a change', async () => {
    const dir = await applied('v_ok');
    expect((await validate('v_ok', dir)).code).toBe(0);
    const path = join(dir, `${A}.up.sql`);
    await writeFile(path, (await readFile(path, 'utf8')).replace(/\n/g, '\r\n'));
    const result = await validate('v_ok', dir);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the migration history of schema "v_ok" matches');
    expect(result.code).toBe(0);
  });

  it('fails when an applied file was edited, naming the file', async () => {
    const dir = await applied('v_edit');
    await writeFile(join(dir, `${A}.up.sql`), '-- first\nCREATE TABLE a (id bigint);\n');
    const result = await validate('v_edit', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^changed: ${A}: .*${A}\\.up\\.sql changed after it was applied at .*restore the file`, 'm'));
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('fails when an applied file disappeared', async () => {
    const dir = await applied('v_gone');
    await rm(join(dir, `${A}.up.sql`));
    await rm(join(dir, `${A}.down.sql`));
    const result = await validate('v_gone', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^missing-file: ${A}: applied at .* but .*${A}\\.up\\.sql no longer exists`, 'm'));
  });

  it('fails when an unapplied migration sorts before an applied one', async () => {
    const dir = await applied('v_order');
    const early = '20260101000001_zz_late_merge';
    await writeMigrations(dir, { [early]: { up: 'CREATE TABLE late (id int);', down: 'DROP TABLE late;' } });
    const result = await validate('v_order', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^out-of-order: ${early}: not applied, but sorts before ${B}, which is applied`, 'm'));
  });

  it('fails when the tracking table names a migration the repository does not know, one finding per line', async () => {
    const dir = await applied('v_unknown');
    await client.query(`INSERT INTO v_unknown.authdb_migrations (name, checksum, duration_ms) VALUES ($1, 'x', 1)`, [C]);
    await writeFile(join(dir, `${B}.up.sql`), 'CREATE TABLE b (id text);');
    const result = await validate('v_unknown', dir, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      { kind: 'changed', name: B, message: expect.stringContaining(`${B}.up.sql changed`) as string },
      { kind: 'unknown', name: C, message: expect.stringContaining('records it') as string },
    ]);
    const text = await validate('v_unknown', dir);
    expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^changed: /), expect.stringMatching(new RegExp(`^unknown: ${C}: v_unknown\\.authdb_migrations records it .*newer than every file`))]);
    expect(text.stderr).toContain('2 problem(s)');
  });

  it('reports misnamed files instead of crashing', async () => {
    const dir = await applied('v_names');
    await writeFile(join(dir, 'add_things.up.sql'), 'SELECT 1;');
    const result = await validate('v_names', dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^invalid-file: .*add_things\.up\.sql: name must be a 14-digit timestamp/m);
  });
});
