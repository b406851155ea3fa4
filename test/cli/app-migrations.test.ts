import { readdirSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir, writeMigrations, type TempDir } from '../support/migration-fixtures.js';

// An application's own migrations beside authdb's, in one history per
// schema: each row records its source; authdb's run first, then the
// application's; an authdb upgrade adds its new migrations however old
// their timestamps are next to the application's; order is kept per source.

const SHIPPED = fileURLToPath(new URL('../../migrations/', import.meta.url));
const SHIPPED_TYPES = fileURLToPath(new URL('../../src/client/database-types.ts', import.meta.url));
/** How many migrations authdb ships. */
const SHIPPED_COUNT = readdirSync(SHIPPED).filter((name) => name.endsWith('.up.sql')).length;
const PROFILES = '20291201000001_profiles';
const NICKNAME = '20291201000002_nickname';
const EARLY = '20291130000001_early';
const UPGRADE = '20281125000009_upgrade';

let db: TestDatabase;
let authdbDir: TempDir;
let appDir: TempDir;
let schemaIndex = 0;

// One database per test: authdb refuses a second install in one database.
beforeEach(async () => {
  db = await createEmptyDatabase();
  return () => db.close();
});

/** A copy of the shipped migrations (so a test can add an "upgrade") and an application directory. */
async function project(schema: string): Promise<{ readonly base: string[]; readonly app: string[]; readonly schema: string }> {
  authdbDir = await createTempDir('authdb-shipped-');
  appDir = await createTempDir('authdb-app-');
  const [shipped, application] = [authdbDir, appDir];
  onTestFinished(async () => {
    await shipped.remove();
    await application.remove();
  });
  await cp(SHIPPED, authdbDir.path, { recursive: true });
  await writeMigrations(appDir.path, {
    [PROFILES]: {
      up: '-- The application references authdb\'s users.\nCREATE TABLE profiles (\n  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,\n  bio text\n);\nCREATE INDEX profiles_bio_idx ON profiles (bio);\n',
      down: 'DROP TABLE profiles;\n',
    },
    [NICKNAME]: { up: '-- ...and extends them.\nALTER TABLE users ADD COLUMN nickname text;\n', down: 'ALTER TABLE users DROP COLUMN nickname;\n' },
  });
  const base = ['--database-url', db.url, '--schema', schema, '--migrations-dir', authdbDir.path];
  return { base, app: ['--app-migrations', `app=${appDir.path}`], schema };
}

async function rows(schema: string): Promise<[string, string][]> {
  const { rows: found } = await db.pool.query<{ name: string; source: string }>(`SELECT name, source FROM ${schema}.authdb_migrations ORDER BY applied_at, name`);
  return found.map((r) => [r.source, r.name]);
}

describe('authdb and application migrations in one history', () => {
  it('applies both, records each source, and every command holds authdb to its contract and the application to its files', async () => {
    const { base, app, schema } = await project(`app_flow_${++schemaIndex}`);
    const up = await runMain(['migrate', 'up', ...base, ...app]);
    expect(up.stderr).not.toContain('error');
    expect(up.code).toBe(0);
    const authdbNames = (await rows(schema)).filter(([source]) => source === 'authdb').map(([, name]) => name);
    expect(authdbNames).toHaveLength(SHIPPED_COUNT);
    expect((await rows(schema)).slice(-2)).toEqual([['app', PROFILES], ['app', NICKNAME]]);

    const status = await runMain(['migrate', 'status', '--exit-code', ...base, ...app]);
    expect(status.code).toBe(0);
    expect(status.stdout.split('\n')[0]).toMatch(/^STATE\s+SOURCE\s+NAME\s+APPLIED AT$/);
    expect(status.stdout).toMatch(new RegExp(`^applied\\s+app\\s+${PROFILES}\\s`, 'm'));
    expect((await runMain(['migrate', 'validate', ...base, ...app])).code).toBe(0);

    // The shipped contract and the shipped types still describe authdb's part.
    const check = await runMain(['schema', 'check', ...base.slice(0, 4), ...app]);
    expect(check.stdout).toBe('');
    expect(check.code).toBe(0);
    const codegen = await runMain(['codegen', '--check', '--out', SHIPPED_TYPES, ...base, ...app]);
    expect(codegen.stdout).toBe('');
    expect(codegen.code).toBe(0);

    // Without the application's directory: its objects are drift, with the way out named...
    const bare = await runMain(['schema', 'check', ...base.slice(0, 4)]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toContain('+ table profiles');
    expect(bare.stdout).toContain('+ column users.nickname');
    expect(bare.stdout).toContain('--app-migrations DIR');
    // ...and its history rows are another source's, never missing files.
    const unloaded = await runMain(['migrate', 'status', '--json', ...base]);
    expect(unloaded.code).toBe(0);
    const states = JSON.parse(unloaded.stdout) as { name: string; source: string; state: string }[];
    expect(states.filter((s) => s.source === 'app').map((s) => s.state)).toEqual(['unloaded', 'unloaded']);
    expect((await runMain(['migrate', 'validate', ...base])).code).toBe(0);
    const codegenBare = await runMain(['codegen', '--check', '--out', SHIPPED_TYPES, ...base]);
    expect(codegenBare.code).toBe(1);
    expect(codegenBare.stderr).toContain('records migrations of source "app", which this run was not given');

    expect((await runMain(['migrate', 'verify-reversible', ...base, ...app])).code).toBe(0);

  // An overload of an authdb function is drift even when an application file creates it.
  await writeMigrations(appDir.path, {
    '20291201000003_overload': { up: 'CREATE FUNCTION canonical_email(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT $1 $$;\n', down: 'DROP FUNCTION canonical_email(text, boolean);\n' },
  });
  expect((await runMain(['migrate', 'up', ...base, ...app])).code).toBe(0);
  const overload = await runMain(['schema', 'check', ...base.slice(0, 4), ...app]);
  expect(overload.code).toBe(1);
  expect(overload.stdout).toContain('+ function canonical_email(text, boolean)');
  });

  it('applies an authdb upgrade after the application, not as out of order; refuses out-of-order application migrations unless allowed', async () => {
    const { base, app, schema } = await project(`app_upgrade_${++schemaIndex}`);
    expect((await runMain(['migrate', 'up', ...base, ...app])).code).toBe(0);

    // A new authdb release: its migration sorts before the application's, but is authdb's newest.
    await writeMigrations(authdbDir.path, { [UPGRADE]: { up: 'ALTER TABLE users ADD COLUMN upgraded_at timestamptz;\n', down: 'ALTER TABLE users DROP COLUMN upgraded_at;\n' } });
    const gate = await runMain(['migrate', 'status', '--exit-code', ...base, ...app]);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toMatch(new RegExp(`^pending\\s+authdb\\s+${UPGRADE}\\s+-$`, 'm'));
    expect(gate.stderr).toContain('1 migration(s) pending');
    expect((await runMain(['migrate', 'status', ...base, ...app])).code).toBe(0);
    const upgrade = await runMain(['migrate', 'up', ...base, ...app]);
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toMatch(new RegExp(`^applied\\s+${UPGRADE} `));
    expect((await rows(schema)).at(-1)).toEqual(['authdb', UPGRADE]);

    // A branch merged late: older than the application's newest applied migration.
    await writeMigrations(appDir.path, { [EARLY]: { up: 'CREATE TABLE early (id int);\n', down: 'DROP TABLE early;\n' } });
    const status = await runMain(['migrate', 'status', ...base, ...app]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`^out-of-order\\s+app\\s+${EARLY}\\s+-  \\(older than ${NICKNAME}, which is applied\\)$`, 'm'));
    const refused = await runMain(['migrate', 'up', ...base, ...app]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${EARLY} (source "app") is pending, but ${NICKNAME} is applied`);
    expect(refused.stderr).toContain('--allow-out-of-order');
    expect(refused.stderr).toContain('[AUTHDB_OUT_OF_ORDER]');
    expect((await rows(schema)).map(([, name]) => name)).not.toContain(EARLY);
    const allowed = await runMain(['migrate', 'up', '--allow-out-of-order', ...base, ...app]);
    expect(allowed.code).toBe(0);
    expect((await rows(schema)).at(-1)).toEqual(['app', EARLY]);

    // Down goes by the order of application; without the application's directory it refuses rather than skip.
    const blind = await runMain(['migrate', 'down', ...base]);
    expect(blind.code).toBe(1);
    expect(blind.stderr).toContain(`${EARLY} (source "app")`);
    const down = await runMain(['migrate', 'down', '--steps', '2', ...base, ...app]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`^reverted ${EARLY} .*\\nreverted ${UPGRADE} `));
    const all = await runMain(['migrate', 'down', '--all', ...base, ...app]);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').slice(0, 2).join('\n')).toMatch(new RegExp(`^reverted ${NICKNAME} .*\\nreverted ${PROFILES} `));
    expect(await rows(schema)).toEqual([]);
  });

  it('adds the source column to a tracking table made before sources existed; its rows are authdb\'s', async () => {
    const { base, app, schema } = await project(`app_old_${++schemaIndex}`);
    expect((await runMain(['migrate', 'up', ...base])).code).toBe(0);
    await db.pool.query(`ALTER TABLE ${schema}.authdb_migrations DROP COLUMN source`);
    const status = await runMain(['migrate', 'status', '--json', ...base, ...app]);
    expect(status.code).toBe(0);
    const states = JSON.parse(status.stdout) as { source: string; state: string }[];
    expect(states.map((s) => `${s.source}:${s.state}`)).toEqual([...Array<string>(SHIPPED_COUNT).fill('authdb:applied'), 'app:pending', 'app:pending']);
    expect((await runMain(['migrate', 'up', ...base, ...app])).code).toBe(0);
    expect((await rows(schema)).map(([source]) => source)).toEqual([...Array<string>(SHIPPED_COUNT).fill('authdb'), 'app', 'app']);
  });

  it('refuses a migration name found in two sources, before anything runs', async () => {
    const { base, app, schema } = await project(`app_dup_${++schemaIndex}`);
    const copied = (await readFile(join(authdbDir.path, '20261125000001_roles.up.sql'), 'utf8')).slice(0, 40);
    await writeMigrations(appDir.path, { '20261125000001_roles': { up: `-- ${copied}\nSELECT 1;\n`, down: 'SELECT 1;\n' } });
    const result = await runMain(['migrate', 'up', ...base, ...app]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('two migration sources hold a migration of the same name');
    expect(result.stderr).toContain('20261125000001_roles: in source "authdb"');
    const { rows: tables } = await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(tables).toEqual([]);
  });
});
