// CREATE EXTENSION in migrations installed with --schema: an extension lives
// once per database, in one schema, and the engine's search_path is the
// target schema only; the error says where the extension is and what to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

let db: TestDatabase;
let dir: TempDir;
let strict: TempDir;

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir({
    '20260101000001_emails': { up: 'CREATE EXTENSION IF NOT EXISTS citext;\nCREATE TABLE app_emails (e citext);\n', down: 'DROP TABLE app_emails;\n' },
  });
  strict = await writeMigrationDir({
    '20260101000001_emails': { up: 'CREATE EXTENSION citext;\nCREATE TABLE app_emails (e citext);\n', down: 'DROP TABLE app_emails;\n' },
  });
});

afterAll(async () => {
  await dir.remove();
  await strict.remove();
  await db.close();
});

const up = (migrations: TempDir, schema: string): ReturnType<typeof runMain> =>
  runMain(['migrate', 'up', '--database-url', db.url, '--schema', schema, '--migrations-dir', migrations.path, '--allow-second-install']);

describe('CREATE EXTENSION citext under --schema', () => {
  it('the first install creates it in its schema; a second install names where it lives, the search path and the fixes', async () => {
    expect((await up(dir, 'one')).code).toBe(0);
    const second = await up(dir, 'two');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('type "citext" does not exist');
    expect(second.stderr).toContain(
      'type "citext" exists, created by extension citext in schema "one" (pg_extension.extnamespace): an extension is installed once per database, in one schema, ' +
        'and authdb runs migration files with search_path = "two", pg_temp',
    );
    expect(second.stderr).toContain('Qualify the name ("one".citext), or install the extension in a schema every install can reach (CREATE EXTENSION citext WITH SCHEMA extensions');
  });

  it('CREATE EXTENSION without IF NOT EXISTS: names the schema it is installed in', async () => {
    const second = await up(strict, 'three');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('extension "citext" already exists');
    expect(second.stderr).toContain('extension citext is already installed in this database, in schema "one" (an extension is installed once per database): use CREATE EXTENSION IF NOT EXISTS citext');
  });

  it('a type of an extension not installed: names the extension to create', async () => {
    await db.pool.query('DROP EXTENSION citext CASCADE');
    const missing = await writeMigrationDir({ '20260101000002_plain': { up: 'CREATE TABLE app_emails (e citext);\n', down: 'DROP TABLE app_emails;\n' } });
    try {
      const result = await up(missing, 'four');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no installed extension provides type "citext", but extension citext is available: add "CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA <schema>;"');
    } finally {
      await missing.remove();
    }
  });
});
