import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, writeMigrations, type TempDir } from '../support/migration-fixtures.js';

// Applied history is immutable: once applied, an up file may not change
// (line endings aside) or disappear, or `migrate up` and `down` refuse to run.

const A = '20260101000001_a';
const B = '20260101000002_b';
const C = '20260101000003_c';
const MIGRATIONS = {
  [A]: { up: 'CREATE TABLE a_t (id int);\n-- second line\n', down: 'DROP TABLE a_t;\n' },
  [B]: { up: 'CREATE TABLE b_t (id int);\n', down: 'DROP TABLE b_t;\n' },
};

let db: TestDatabase;
let dir: TempDir;
let schemaIndex = 0;
let args: string[];

beforeAll(async () => {
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await db.close();
});

beforeEach(async () => {
  dir = await writeMigrationDir(MIGRATIONS);
  args = ['--database-url', db.url, '--migrations-dir', dir.path, '--schema', `history_${++schemaIndex}`];
  expect((await runMain(['migrate', 'up', ...args, '--allow-second-install'])).code).toBe(0);
  // A new pending migration, which a refused run must not apply.
  await writeMigrations(dir.path, { [C]: { up: 'CREATE TABLE c_t (id int);\n', down: 'DROP TABLE c_t;\n' } });
  return () => dir.remove();
});

async function appliedNames(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(`SELECT name FROM history_${schemaIndex}.authdb_migrations ORDER BY name`);
  return rows.map((r) => r.name);
}

describe('an applied migration whose file changed', () => {
  it('makes `migrate up` and `migrate down` refuse with exit 1, naming the file; status says changed', async () => {
    const path = join(dir.path, `${A}.up.sql`);
    await writeFile(path, (await readFile(path, 'utf8')).replace('second line', 'edited line'));

    for (const command of ['up', 'down']) {
      const result = await runMain(['migrate', command, ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('applied migrations no longer match their files; refusing to continue');
      expect(result.stderr).toContain(`${A}: ${path} changed since it was applied`);
      expect(result.stderr).toContain('[AUTHDB_HISTORY]');
    }
    expect(await appliedNames()).toEqual([A, B]);

    const status = await runMain(['migrate', 'status', '--json', ...args]);
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as { state: string }[]).map((s) => s.state)).toEqual(['changed', 'applied', 'pending']);
  });

  it('is not a change when only the line endings became CRLF', async () => {
    const path = join(dir.path, `${A}.up.sql`);
    await writeFile(path, (await readFile(path, 'utf8')).replace(/\n/g, '\r\n'));

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^applied\\s+${C} `)) as unknown });
    expect(await appliedNames()).toEqual([A, B, C]);
  });
});

describe('an applied migration whose files vanished', () => {
  it('makes `migrate up` refuse with exit 1, naming the file; status says missing', async () => {
    await rm(join(dir.path, `${B}.up.sql`));
    await rm(join(dir.path, `${B}.down.sql`));

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${B}: applied at \\S+, but ${join(dir.path, `${B}.up.sql`)} no longer exists`));
    expect(await appliedNames()).toEqual([A, B]);
    const status = await runMain(['migrate', 'status', '--json', ...args]);
    expect((JSON.parse(status.stdout) as { name: string; state: string }[]).map((s) => [s.name, s.state])).toEqual([
      [A, 'applied'],
      [B, 'missing'],
      [C, 'pending'],
    ]);
  });
});
