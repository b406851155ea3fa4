import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// `migrate up` that would create a new install while another schema of the
// same database holds one of the same migrations refuses (a forgotten
// --schema), naming the existing schema; --allow-second-install means it.

let db: TestDatabase;
let dir: TempDir;

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir({ '20260101000001_app': { up: 'CREATE TABLE app_t (id int);\n', down: 'DROP TABLE app_t;\n' } });
});

afterAll(async () => {
  await db.close();
  await dir.remove();
});

async function tracking(): Promise<string[]> {
  const { rows } = await db.pool.query<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'authdb_migrations' ORDER BY 1",
  );
  return rows.map((r) => r.schema);
}

describe('a second install', () => {
  it('is refused when --schema is forgotten, and allowed with --allow-second-install', async () => {
    const url = ['--database-url', db.url];
    expect((await runCli(['migrate', 'up', ...url, '--schema', 'auth'])).code).toBe(0);

    for (const extra of [[], ['--dry-run']]) {
      const refused = await runCli(['migrate', 'up', ...url, ...extra]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('schema "public" holds no authdb install, but schema "auth" of this database holds one of the same migrations; nothing was run.');
      expect(refused.stderr).toContain('pass --schema auth');
      expect(refused.stderr).toContain('--allow-second-install');
      expect(refused.stderr).toContain('[AUTHDB_SECOND_INSTALL]');
    }
    expect(await tracking()).toEqual(['auth']);

    // The existing install itself migrates as before; another migrations directory is another history.
    expect((await runCli(['migrate', 'up', ...url, '--schema', 'auth'])).code).toBe(0);
    expect((await runCli(['migrate', 'up', ...url, '--schema', 'app', '--migrations-dir', dir.path])).code).toBe(0);

    const allowed = await runCli(['migrate', 'up', ...url, '--schema', 'tenant_b', '--allow-second-install']);
    expect(allowed.code).toBe(0);
    expect(await tracking()).toEqual(['app', 'auth', 'tenant_b']);
    // Both installs exist now: a third is refused naming both.
    const third = await runCli(['migrate', 'up', ...url]);
    expect(third.stderr).toContain('schemas "auth", "tenant_b" of this database hold one');
  });
});
