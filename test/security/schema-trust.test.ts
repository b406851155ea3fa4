import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';

// Issue 7 §1: before the first statement of `migrate up`/`down`, and in every
// command that reads the install, authdb refuses a schema that a role other
// than the install's owner controls: owned by it, CREATE-able by it (PUBLIC
// included), or holding an authdb_migrations table of its own.

const roles = new TestRoles();
const databases: TestDatabase[] = [];
let deployer: TestRole;
let mallory: TestRole;
let reader: TestRole;

beforeAll(async () => {
  deployer = await roles.create('authdb_trust_deployer');
  mallory = await roles.create('authdb_trust_mallory');
  reader = await roles.create('authdb_trust_reader', 'IN ROLE pg_read_all_data');
});

afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
  await roles.dropAll([]);
});

/** An empty database in which `deployer` may create schemas and every role may connect. */
async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  databases.push(db);
  await db.pool.query(`GRANT CREATE ON DATABASE ${db.name} TO ${deployer.name}, ${mallory.name}`);
  return db;
}

async function asRole(db: TestDatabase, role: TestRole, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: role.urlFor(db.url) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function cli(url: string, ...args: string[]): Promise<CliResult> {
  return runMain([...args, '--database-url', url]);
}

async function tables(db: TestDatabase, schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

function expectRefused(result: CliResult, ...fragments: string[]): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('[AUTHDB_SCHEMA_TRUST]');
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

describe('schema trust preflight', () => {
  it('refuses `public` while PUBLIC may create in it (PostgreSQL ≤ 14 default), naming the REVOKE; nothing is created', async () => {
    const db = await emptyDatabase();
    await db.pool.query('GRANT CREATE ON SCHEMA public TO PUBLIC');
    const result = await cli(db.url, 'migrate', 'up');
    expectRefused(result, 'schema public', 'PUBLIC may create objects', 'REVOKE CREATE ON SCHEMA public FROM PUBLIC;');
    expect(await tables(db, 'public')).toEqual([]);
    // --dry-run is refused too: it would read an authdb_migrations anyone could have planted.
    expectRefused(await cli(db.url, 'migrate', 'up', '--dry-run'), 'REVOKE CREATE ON SCHEMA public FROM PUBLIC;');

    await db.pool.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    expect((await cli(db.url, 'migrate', 'up')).code).toBe(0);
  });

  it('refuses a target schema pre-created by another role, naming it and the ALTER SCHEMA … OWNER TO that fixes it', async () => {
    const db = await emptyDatabase();
    await asRole(db, mallory, 'CREATE SCHEMA auth; GRANT USAGE, CREATE ON SCHEMA auth TO PUBLIC');
    const result = await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth');
    expectRefused(result, `owned by role ${mallory.name}`, `ALTER SCHEMA auth OWNER TO ${deployer.name};`, 'REVOKE CREATE ON SCHEMA auth FROM PUBLIC');
    expect(await tables(db, 'auth')).toEqual([]);
  });

  it('refuses a schema holding objects another role planted before it lost CREATE (an overload of an API function)', async () => {
    const db = await emptyDatabase();
    await asRole(db, deployer, `CREATE SCHEMA auth; GRANT CREATE, USAGE ON SCHEMA auth TO ${mallory.name}`);
    await asRole(db, mallory, 'CREATE FUNCTION auth.register_user_with_token(p_email text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
    await asRole(db, deployer, `REVOKE CREATE ON SCHEMA auth FROM ${mallory.name}`);
    const result = await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth');
    expectRefused(result, `owned by ${mallory.name}`, 'function auth.register_user_with_token(text)', 'DROP FUNCTION');
    expect(await tables(db, 'auth')).toEqual([]);
    await db.pool.query('DROP FUNCTION auth.register_user_with_token(text)');
    expect((await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth')).code).toBe(0);
  });

  it('accepts a schema the migrating role created itself, or one a superuser owns', async () => {
    const db = await emptyDatabase();
    await asRole(db, deployer, 'CREATE SCHEMA auth');
    expect((await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth')).code).toBe(0);
    await db.pool.query(`CREATE SCHEMA superuser_owned; GRANT CREATE, USAGE ON SCHEMA superuser_owned TO ${deployer.name}`);
    expect((await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'superuser_owned', '--allow-second-install')).code).toBe(0);
  });

  it('refuses an authdb_migrations owned by another role in every command, up and down included', async () => {
    const db = await emptyDatabase();
    await asRole(db, deployer, `CREATE SCHEMA auth; GRANT CREATE, USAGE ON SCHEMA auth TO ${mallory.name}`);
    // mallory plants a tracking table claiming everything is applied, then loses CREATE.
    await asRole(
      db,
      mallory,
      `CREATE TABLE auth.authdb_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL);
       GRANT SELECT ON auth.authdb_migrations TO PUBLIC`,
    );
    await asRole(db, deployer, `REVOKE CREATE ON SCHEMA auth FROM ${mallory.name}`);
    const url = deployer.urlFor(db.url);
    const fix = `ALTER TABLE auth.authdb_migrations OWNER TO ${deployer.name};`;
    for (const args of [
      ['migrate', 'up'],
      ['migrate', 'down'],
      ['migrate', 'status'],
      ['migrate', 'validate'],
      ['schema', 'check'],
      ['codegen', '--check'],
    ]) {
      expectRefused(await cli(url, ...args, '--schema', 'auth'), `owned by role ${mallory.name}`, fix);
    }
    expect(await tables(db, 'auth')).toEqual(['authdb_migrations']);
  });

  it('read-only commands refuse an install whose schema another role may create in; a monitoring role names the owner with --owner', async () => {
    const db = await createMigratedDatabase();
    databases.push(db);
    const { rows } = await db.pool.query<{ owner: string }>('SELECT current_user AS owner');
    const owner = rows[0]?.owner ?? '';
    const readerUrl = reader.urlFor(db.url);
    // The connected role is not the install's owner: say who is.
    expectRefused(await cli(readerUrl, 'schema', 'check'), `ALTER TABLE public.authdb_migrations OWNER TO ${reader.name}`);
    expect((await cli(readerUrl, 'schema', 'check', '--owner', owner)).code).toBe(0);
    expect((await cli(readerUrl, 'migrate', 'validate', '--owner', owner)).code).toBe(0);
    expect((await cli(readerUrl, 'migrate', 'status', '--owner', owner)).code).toBe(0);

    await db.pool.query(`GRANT CREATE ON SCHEMA public TO ${mallory.name}`);
    for (const args of [['schema', 'check'], ['migrate', 'validate'], ['migrate', 'status'], ['codegen', '--check']]) {
      expectRefused(await cli(db.url, ...args), `${mallory.name} may create objects in schema public`, `REVOKE CREATE ON SCHEMA public FROM ${mallory.name};`);
    }
    expectRefused(await cli(readerUrl, 'schema', 'check', '--owner', owner), `REVOKE CREATE ON SCHEMA public FROM ${mallory.name};`);
  });

  it('refuses an authdb_migrations that another role may write', async () => {
    const db = await createMigratedDatabase();
    databases.push(db);
    await db.pool.query(`GRANT INSERT, DELETE ON public.authdb_migrations TO ${mallory.name}`);
    expectRefused(await cli(db.url, 'migrate', 'up'), `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE public.authdb_migrations FROM ${mallory.name};`);
  });
});
