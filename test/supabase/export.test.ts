import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSupabaseMigrations } from '../../src/export/supabase-export.js';
import { guardCallSql, guardFunctionSql } from '../../src/export/supabase-guard.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/migrate/migration-source.js';
import { apiRolePrivileges, queryAs } from '../support/supabase-queries.js';
import { runCli, runProcess, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir, writeMigrations, type TempDir } from '../support/migration-fixtures.js';
import { postgrestRpc } from '../support/postgrest.js';
import { startSupabaseCluster, type SupabaseCluster } from '../support/supabase-cluster.js';

// `authdb export supabase`: authdb's migrations as Supabase CLI migration files
// that carry the engine's protections in their SQL. The first part applies the
// files as `supabase db push` does (each file in one transaction) on the test
// server; the second runs the pinned Supabase CLI itself (SUPABASE_CLI) against
// a Supabase-faithful cluster.

const SCHEMA = 'authdb';
const SHIPPED = (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => f.endsWith('.up.sql')).map((f) => f.replace(/\.up\.sql$/, '.sql')).sort();

/** An authdb release one migration newer than the shipped ones (dated far ahead, so it stays the newest): a copy of migrations/ and a new pair. */
const UPGRADE = {
  '20991201000001_user_notes': {
    up: `-- an upgrade's migration: a table and a function\nCREATE TABLE user_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);\nCREATE FUNCTION user_note_count() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$ SELECT count(*) FROM user_notes $$;\nREVOKE EXECUTE ON FUNCTION user_note_count() FROM PUBLIC;\n`,
    down: 'DROP FUNCTION user_note_count();\nDROP TABLE user_notes;\n',
  },
} as const;

async function upgradedMigrations(): Promise<TempDir> {
  const dir = await createTempDir('authdb-upgrade-');
  await cp(DEFAULT_MIGRATIONS_DIR, dir.path, { recursive: true });
  await writeMigrations(dir.path, UPGRADE);
  return dir;
}

function exportCli(out: string, ...args: string[]): Promise<CliResult> {
  return runCli(['export', 'supabase', '--out', out, ...args]);
}

async function filesOf(dir: string): Promise<Record<string, string>> {
  const names = (await readdir(dir)).sort();
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
}

/** One exported file as supabase db push runs it: all its statements in one transaction. */
async function push(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(sql);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

async function pushAll(url: string, dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) await push(url, await readFile(join(dir, name), 'utf8'));
}

describe('authdb export supabase: the files', () => {
  let out: TempDir;
  beforeAll(async () => {
    out = await createTempDir('authdb-export-');
  });
  afterAll(async () => {
    await out.remove();
  });

  it('writes one <version>_<name>.sql per shipped migration, the same bytes every time, and leaves identical files alone', async () => {
    const first = await exportCli(out.path, '--schema', SCHEMA);
    expect(first.stderr).toContain(`wrote ${SHIPPED.length} migration(s), 0 up to date`);
    expect(first.code).toBe(0);
    const written = await filesOf(out.path);
    expect(Object.keys(written)).toEqual(SHIPPED);
    for (const name of SHIPPED) expect(name).toMatch(/^\d{14}_[a-z0-9_]+\.sql$/);
    const rendered = await renderSupabaseMigrations({ schema: SCHEMA });
    expect(Object.fromEntries(rendered.map((f) => [f.name, f.content]))).toEqual(written);
    const again = await exportCli(out.path, '--schema', SCHEMA);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`up to date ${SHIPPED[0] ?? ''}`);
    expect(again.stderr).toContain(`nothing to write, ${SHIPPED.length} up to date`);
    expect(await filesOf(out.path)).toEqual(written);
    // Nothing in the files depends on the run: no path of this machine.
    const text = Object.values(written).join('\n');
    expect(text).not.toContain(DEFAULT_MIGRATIONS_DIR);
  });

  it('refuses a changed file and another file of the same version, names them, and writes nothing', async () => {
    const [first = '', second = ''] = SHIPPED;
    const before = await filesOf(out.path);
    await writeFile(join(out.path, first), `${before[first] ?? ''}-- edited\n`);
    await writeFile(join(out.path, second.replace(/_.*/, '_other.sql')), 'SELECT 1;\n');
    const last = SHIPPED.at(-1) ?? '';
    await writeFile(join(out.path, last), ''); // emptied: refused too
    const result = await exportCli(out.path, '--schema', SCHEMA);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing was written');
    expect(result.stderr).toContain(`${join(out.path, first)}: exists with other content`);
    expect(result.stderr).toContain(`${join(out.path, last)}: exists with other content`);
    expect(result.stderr).toContain(`has the version of ${second}`);
    expect(result.stderr).toContain('[AUTHDB_EXPORT]');
    // With another schema every file differs: refused the same way.
    expect((await exportCli(out.path, '--schema', 'other')).code).toBe(1);
    await writeFile(join(out.path, first), before[first] ?? '');
    await writeFile(join(out.path, last), before[last] ?? '');
    await rm(join(out.path, second.replace(/_.*/, '_other.sql')));
    expect(await filesOf(out.path)).toEqual(before);
  });

  it('usage: --help, unknown options and a bad schema name exit 2', async () => {
    const helpText = await runCli(['export', 'supabase', '--help']);
    expect(helpText.code).toBe(0);
    expect(helpText.stdout).toContain('Usage: authdb export supabase');
    expect((await runCli(['--help'])).stdout).toContain('export supabase');
    const unknown = await runCli(['export', 'supabase', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('authdb export supabase --help');
    expect((await exportCli(out.path, '--schema', 'no-such"schema')).code).toBe(2);
    expect((await runCli(['export', 'supabase', 'extra'])).code).toBe(2);
  });

  it('after an upgrade, adds only the new migration', async () => {
    const upgraded = await upgradedMigrations();
    try {
      const before = await filesOf(out.path);
      const result = await exportCli(out.path, '--schema', SCHEMA, '--migrations-dir', upgraded.path);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('wrote      20991201000001_user_notes.sql');
      expect(result.stderr).toContain(`wrote 1 migration(s), ${SHIPPED.length} up to date`);
      const after = await filesOf(out.path);
      expect(Object.keys(after)).toEqual([...SHIPPED, '20991201000001_user_notes.sql']);
      for (const name of SHIPPED) expect(after[name]).toBe(before[name]);
    } finally {
      await upgraded.remove();
    }
  });

  it('a no-transaction file of CREATE/DROP INDEX CONCURRENTLY (the shipped index migration) is exported without CONCURRENTLY, and says so', async () => {
    const files = await filesOf(out.path);
    const index = Object.entries(files).find(([name]) => name.includes('_users_unconfirmed_created_at_idx'));
    expect(index).toBeDefined();
    const text = index?.[1] ?? '';
    expect(text).toContain('.up.sql, with CONCURRENTLY taken out: supabase db push runs it in one transaction');
    expect(text).toContain('DROP INDEX IF EXISTS users_unconfirmed_created_at_idx;\nCREATE INDEX users_unconfirmed_created_at_idx\n');
    expect(text).not.toMatch(/^(CREATE|DROP) INDEX CONCURRENTLY/m);
  });

  it('refuses a migration that cannot run in one transaction, writing nothing', async () => {
    const dir = await createTempDir('authdb-notx-');
    const target = await createTempDir('authdb-export-notx-');
    try {
      await writeMigrations(dir.path, {
        '20261201000001_a': { up: 'CREATE TABLE a (id int);\n', down: 'DROP TABLE a;\n' },
        '20261201000002_b': { up: '-- authdb:no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nVACUUM a;\n', down: 'DROP INDEX a_id;\n' },
        '20261201000003_c': { up: 'CREATE TABLE c (id int)', down: 'DROP TABLE c;\n' },
      });
      const result = await exportCli(target.path, '--migrations-dir', dir.path);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('20261201000002_b.up.sql: starts with "-- authdb:no-transaction" and runs statements other than CREATE/DROP INDEX CONCURRENTLY');
      expect(result.stderr).toContain('20261201000003_c.up.sql:1: its last statement does not end with ";"');
      expect(await readdir(target.path)).toEqual([]);
    } finally {
      await dir.remove();
      await target.remove();
    }
  });
});

describe('authdb export supabase: the files applied one transaction each, as supabase db push does', () => {
  let db: TestDatabase;
  let out: TempDir;
  const authdb = (...args: string[]): Promise<CliResult> => runCli(args, { env: { DATABASE_URL: db.url } });

  beforeAll(async () => {
    db = await createEmptyDatabase();
    out = await createTempDir('authdb-export-');
    expect((await exportCli(out.path, '--schema', SCHEMA)).code).toBe(0);
    // What Supabase's defaults do for postgres: every new table, sequence and function handed to others.
    await db.pool.query(`ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC;
                         ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO PUBLIC;
                         ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO PUBLIC`);
  });
  afterAll(async () => {
    await db.close();
    await out.remove();
  });

  it('refuses a schema others may create in, naming the fix, and keeps nothing', async () => {
    await db.pool.query('CREATE SCHEMA shared; GRANT CREATE ON SCHEMA shared TO PUBLIC');
    const shared = await createTempDir('authdb-export-shared-');
    try {
      expect((await exportCli(shared.path, '--schema', 'shared')).code).toBe(0);
      const error = await pushAll(db.url, shared.path, SHIPPED.slice(0, 1)).then(() => undefined, (e: unknown) => e as pg.DatabaseError);
      expect(error?.message).toContain('PUBLIC may create objects in schema shared');
      expect(error?.message).toContain('fix: REVOKE CREATE ON SCHEMA shared FROM PUBLIC;');
      expect(error?.message).toContain('[AUTHDB_SCHEMA_TRUST]');
      const { rows } = await db.pool.query("SELECT pg_catalog.to_regclass('shared.authdb_migrations') AS t, pg_catalog.to_regclass('shared.roles') AS r");
      expect(rows).toEqual([{ t: null, r: null }]);
    } finally {
      await shared.remove();
    }
  });

  it('installs what authdb migrate up installs: schema check, validate and status are clean, up has nothing to do', async () => {
    await pushAll(db.url, out.path, SHIPPED);
    const check = await authdb('schema', 'check', '--schema', SCHEMA);
    expect(check.stdout + check.stderr).toContain('matches the contract');
    expect(check.code).toBe(0);
    expect((await authdb('migrate', 'validate', '--schema', SCHEMA)).code).toBe(0);
    const status = await authdb('migrate', 'status', '--schema', SCHEMA, '--exit-code');
    expect(status.code).toBe(0);
    const up = await authdb('migrate', 'up', '--schema', SCHEMA);
    expect(up.stderr).toContain('nothing to apply');
    const { rows } = await db.pool.query<{ name: string; source: string }>(`SELECT name, source FROM ${SCHEMA}.authdb_migrations ORDER BY name`);
    expect(rows).toEqual(SHIPPED.map((f) => ({ name: f.replace(/\.sql$/, ''), source: 'authdb' })));
    // Nothing for PUBLIC, whatever the default privileges offered (authdb_migrations included).
    const { rows: grants } = await db.pool.query<{ object: string }>(
      `SELECT c.relname::text AS object FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
        WHERE n.nspname = $1 AND a.grantee = 0
       UNION ALL SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
        WHERE n.nspname = $1 AND a.grantee = 0 AND a.privilege_type <> 'EXECUTE'`,
      [SCHEMA],
    );
    expect(grants).toEqual([]);
  });

  it('refuses a file pushed again (authdb already records it) and runs nothing of it', async () => {
    const [first = ''] = SHIPPED;
    const error = await pushAll(db.url, out.path, [first]).then(() => undefined, (e: unknown) => e as pg.DatabaseError);
    expect(error?.message).toContain(`already records migration ${first.replace(/\.sql$/, '')}`);
    expect(error?.message).toContain(`supabase migration repair --status applied ${first.replace(/_.*/, '')}`);
  });

  it("refuses a schema whose table carries a rule, or whose authdb_migrations others may write, with the engine's fixes, and runs nothing", async () => {
    const upgraded = await upgradedMigrations();
    const target = await createTempDir('authdb-export-upgrade-');
    try {
      expect((await exportCli(target.path, '--schema', SCHEMA, '--migrations-dir', upgraded.path)).code).toBe(0);
      await db.pool.query(`CREATE RULE audit AS ON INSERT TO ${SCHEMA}.roles DO ALSO NOTIFY roles_changed;
                           GRANT INSERT ON ${SCHEMA}.authdb_migrations TO PUBLIC`);
      const error = await pushAll(db.url, target.path, ['20991201000001_user_notes.sql']).then(() => undefined, (e: unknown) => e as pg.DatabaseError);
      expect(error?.message).toContain('authdb creates no rules');
      expect(error?.message).toContain(`DROP RULE audit ON ${SCHEMA}.roles;`);
      expect(error?.message).toContain(`fix: REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE ${SCHEMA}.authdb_migrations FROM PUBLIC;`);
      expect(error?.message).toContain('Nothing of 20991201000001_user_notes was applied');
      const { rows } = await db.pool.query(`SELECT pg_catalog.to_regclass('${SCHEMA}.user_notes') AS t`);
      expect(rows).toEqual([{ t: null }]);
    } finally {
      await db.pool.query(`DROP RULE IF EXISTS audit ON ${SCHEMA}.roles; REVOKE INSERT ON ${SCHEMA}.authdb_migrations FROM PUBLIC`);
      await upgraded.remove();
      await target.remove();
    }
  });

  it('refuses to run its statements outside the transaction its checks ran in', async () => {
    const [first = ''] = SHIPPED;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(guardFunctionSql(SCHEMA));
      const error = await client.query(guardCallSql('ready', SCHEMA, first.replace(/\.sql$/, ''), 'authdb', 'x')).then(() => undefined, (e: unknown) => e as pg.DatabaseError);
      expect(error?.message).toContain('must run in one transaction');
    } finally {
      await client.end();
    }
  });

  it('after an upgrade, authdb migrate up applies the new migration, or the new exported file does', async () => {
    const upgraded = await upgradedMigrations();
    const other = await createEmptyDatabase();
    try {
      expect((await authdb('migrate', 'up', '--schema', SCHEMA, '--migrations-dir', upgraded.path)).code).toBe(0);
      expect((await authdb('migrate', 'status', '--schema', SCHEMA, '--migrations-dir', upgraded.path, '--exit-code')).code).toBe(0);
      // The other path: the upgrade's exported file pushed onto an install of the shipped files.
      expect((await exportCli(out.path, '--schema', SCHEMA, '--migrations-dir', upgraded.path)).code).toBe(0);
      await pushAll(other.url, out.path, [...SHIPPED, '20991201000001_user_notes.sql']);
      const status = await runCli(['migrate', 'status', '--schema', SCHEMA, '--migrations-dir', upgraded.path, '--exit-code'], { env: { DATABASE_URL: other.url } });
      expect(status.code).toBe(0);
      expect((await runCli(['migrate', 'validate', '--schema', SCHEMA, '--migrations-dir', upgraded.path], { env: { DATABASE_URL: other.url } })).code).toBe(0);
    } finally {
      await upgraded.remove();
      await other.close();
    }
  });
});

// The pinned Supabase CLI (`npm i -E --prefix DIR supabase@2.117.0`, SUPABASE_CLI=DIR/node_modules/.bin/supabase).
const SUPABASE_CLI = process.env.SUPABASE_CLI;

describe.skipIf(SUPABASE_CLI === undefined || SUPABASE_CLI === '')('supabase db push of the export, on a Supabase-faithful cluster', { timeout: 240_000 }, () => {
  let supabase: SupabaseCluster;
  let project: TempDir;
  const authdb = (...args: string[]): Promise<CliResult> => runCli(args, { env: { DATABASE_URL: supabase.url('postgres') } });

  beforeAll(async () => {
    supabase = await startSupabaseCluster();
    project = await createTempDir('authdb-supabase-project-');
  }, 120_000);
  afterAll(async () => {
    await supabase.stop();
    await project.remove();
  });

  async function dbPush(dir: string): Promise<CliResult> {
    const url = new URL(supabase.url('postgres'));
    url.searchParams.set('sslmode', 'disable');
    return runProcess(SUPABASE_CLI ?? '', ['db', 'push', '--db-url', url.toString(), '--yes', '--workdir', dir]);
  }

  async function newProject(name: string, schema: string): Promise<string> {
    const dir = join(project.path, name);
    await mkdir(join(dir, 'supabase'), { recursive: true });
    await writeFile(join(dir, 'supabase', 'config.toml'), `project_id = "${name}"\n`);
    const exported = await exportCli(join(dir, 'supabase', 'migrations'), '--schema', schema);
    expect(exported.code).toBe(0);
    return dir;
  }

  function asAdmin<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
    return queryAs<T>(supabase.url('supabase_admin'), sql);
  }

  it("refuses Supabase Auth's schema auth with authdb's message, and leaves nothing", async () => {
    const result = await dbPush(await newProject('auth', 'auth'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('schema auth is owned by role supabase_auth_admin');
    expect(result.stderr).toContain('leave schema auth to role supabase_auth_admin');
    expect(result.stderr).toContain('--schema NAME');
    expect(result.stderr).not.toMatch(/OWNER TO|DROP |REVOKE /);
    expect((await asAdmin<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'auth' ORDER BY 1`)).map((t) => t.name)).toEqual(['users']);
    expect(await asAdmin("SELECT version FROM supabase_migrations.schema_migrations")).toEqual([]);
  });

  it('installs through db push what authdb migrate up installs; anon, authenticated and service_role get nothing; then grant and RPC', async () => {
    const dir = await newProject('app', SCHEMA);
    const pushed = await dbPush(dir);
    expect(pushed.stderr + pushed.stdout).toContain(`Applying migration ${SHIPPED[0] ?? ''}`);
    expect(pushed.code).toBe(0);
    const check = await authdb('schema', 'check', '--schema', SCHEMA);
    expect(check.stdout + check.stderr).toContain('matches the contract');
    expect(check.code).toBe(0);
    expect((await authdb('migrate', 'status', '--schema', SCHEMA, '--exit-code')).code).toBe(0);
    expect((await authdb('migrate', 'up', '--schema', SCHEMA)).stderr).toContain('nothing to apply');
    expect(await apiRolePrivileges(supabase.url('supabase_admin'), SCHEMA)).toEqual([]);

    const grant = await authdb('grant', '--role', 'service_role', '--schema', SCHEMA);
    expect(grant.code).toBe(0);
    const registered = await postgrestRpc(supabase.url('authenticator'), {
      schema: SCHEMA,
      fn: 'register_user_with_token',
      body: { p_email: 'Ada@Example.com', p_password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' },
      role: 'service_role',
    });
    expect(registered).toMatchObject({ status: 200, body: [{ email: 'ada@example.com', outcome: 'created' }] });
    const anon = await postgrestRpc(supabase.url('authenticator'), { schema: SCHEMA, fn: 'register_user_with_token', body: { p_email: 'x@example.com' }, role: 'anon' });
    expect(anon).toMatchObject({ status: 401, body: { code: '42501' } });
  });

  it("after an upgrade, the export adds only the new file and db push applies only it", async () => {
    const upgraded = await upgradedMigrations();
    try {
      const dir = join(project.path, 'app');
      const exported = await exportCli(join(dir, 'supabase', 'migrations'), '--schema', SCHEMA, '--migrations-dir', upgraded.path);
      expect(exported.stderr).toContain(`wrote 1 migration(s), ${SHIPPED.length} up to date`);
      const pushed = await dbPush(dir);
      expect(pushed.code).toBe(0);
      expect(pushed.stderr + pushed.stdout).toContain('Applying migration 20991201000001_user_notes.sql');
      expect(pushed.stderr + pushed.stdout).not.toContain(`Applying migration ${SHIPPED[0] ?? ''}`);
      expect((await authdb('migrate', 'status', '--schema', SCHEMA, '--migrations-dir', upgraded.path, '--exit-code')).code).toBe(0);
      // The upgrade's table and function: nothing for the API roles, whatever the default privileges offered.
      expect((await apiRolePrivileges(supabase.url('supabase_admin'), SCHEMA)).filter((g) => g.includes('user_note'))).toEqual([]);
    } finally {
      await upgraded.remove();
    }
  });
});
