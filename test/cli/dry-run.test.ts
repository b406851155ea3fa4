import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain, withoutPasswordWarning } from '../support/cli.js';
import { dumpSchema, listObjects } from '../support/catalog.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// --dry-run prints the exact SQL a run would execute, in order, and changes
// nothing: not even authdb_migrations or the target schema is created.

const MIGRATIONS = {
  '20260101000001_a': { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
  '20260101000002_b': { up: 'CREATE TABLE b_t (id int);\n', down: 'DROP TABLE b_t;\n' },
  '20260101000003_c': {
    up: '-- authdb:no-transaction\nCREATE INDEX CONCURRENTLY b_t_id ON b_t (id);\n',
    down: '-- authdb:no-transaction\nDROP INDEX CONCURRENTLY b_t_id;\n',
  },
};

let db: TestDatabase;
let dir: TempDir;
let connection: string[];

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir(MIGRATIONS);
  connection = ['--database-url', db.url, '--migrations-dir', dir.path];
});

afterAll(async () => {
  await db.close();
  await dir.remove();
});

/** Indexes of `parts` in `text`, which must all occur. */
function positions(text: string, parts: readonly string[]): number[] {
  return parts.map((part) => {
    const index = text.indexOf(part);
    expect(index, part).toBeGreaterThanOrEqual(0);
    return index;
  });
}

describe('migrate up --dry-run', () => {
  it('prints every pending file in order, wrapped as it would run, and creates nothing on a fresh database', async () => {
    for (const schema of ['public', 'auth']) {
      const before = await listObjects(db.pool);

      const result = await runMain(['migrate', 'up', '--dry-run', '--schema', schema, ...connection]);

      expect(result.code).toBe(0);
      expect(await listObjects(db.pool)).toEqual(before);
      expect(before.join('\n')).not.toContain('authdb_migrations');
      expect(before).not.toContain('schema auth');
      const out = result.stdout;
      expect(out).toContain(`-- authdb dry run: 3 migration(s) would run in schema "${schema}"; nothing was changed`);
      const order = positions(out, [
        `-- up 20260101000001_a (${dir.path}/20260101000001_a.up.sql)\nBEGIN;\nSET LOCAL search_path TO "${schema}", pg_temp;\nSET LOCAL lock_timeout = 10000;\nSET LOCAL standard_conforming_strings = on;\nCREATE TABLE a_t (id int);\n-- then: INSERT INTO authdb_migrations ('20260101000001_a', …)\nCOMMIT;`,
        'CREATE TABLE b_t (id int);',
        `-- up 20260101000003_c (${dir.path}/20260101000003_c.up.sql)\nSET search_path TO "${schema}", pg_temp;\nSET lock_timeout = 10000;\nSET standard_conforming_strings = on;\n-- authdb:no-transaction\nCREATE INDEX CONCURRENTLY b_t_id ON b_t (id);\n-- then: INSERT`,
      ]);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  it('honours --to and says so when nothing would run', async () => {
    const partial = await runMain(['migrate', 'up', '--dry-run', '--to', '20260101000001_a', ...connection]);
    expect(partial.stdout).toContain('1 migration(s) would run');
    expect(partial.stdout).not.toContain('b_t');

    expect((await runMain(['migrate', 'up', ...connection])).code).toBe(0);
    const none = await runMain(['migrate', 'up', '--dry-run', ...connection]);
    expect({ ...none, stderr: withoutPasswordWarning(none.stderr) }).toEqual({ code: 0, stdout: '', stderr: 'authdb: dry run: nothing would run (schema "public")\n' });
  });
});

describe('migrate down --dry-run', () => {
  it('prints the down files newest first and changes nothing', async () => {
    expect((await runMain(['migrate', 'up', ...connection])).code).toBe(0);
    const before = [...(await dumpSchema(db.pool, 'public')), ...(await db.pool.query('SELECT name, checksum, applied_at FROM authdb_migrations ORDER BY name')).rows.map((r) => JSON.stringify(r))];

    const result = await runMain(['migrate', 'down', '--all', '--dry-run', ...connection]);

    expect(result.code).toBe(0);
    const after = [...(await dumpSchema(db.pool, 'public')), ...(await db.pool.query('SELECT name, checksum, applied_at FROM authdb_migrations ORDER BY name')).rows.map((r) => JSON.stringify(r))];
    expect(after).toEqual(before);
    const order = positions(result.stdout, [
      'DROP INDEX CONCURRENTLY b_t_id;',
      "-- then: DELETE FROM authdb_migrations WHERE name = '20260101000003_c'",
      'DROP TABLE b_t;',
      'DROP TABLE a_t;',
      "-- then: DELETE FROM authdb_migrations WHERE name = '20260101000001_a'",
    ]);
    expect(order).toEqual([...order].sort((x, y) => x - y));

    const steps = await runMain(['migrate', 'down', '--steps', '2', '--dry-run', ...connection]);
    expect(steps.stdout).toContain('2 migration(s) would run');
    expect(steps.stdout).not.toContain('DROP TABLE a_t');
  });
});
