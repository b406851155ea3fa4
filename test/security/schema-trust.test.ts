import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, createMigratedDatabase, migrateDatabase, type TestDatabase } from '../support/database.js';
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

  it('refuses a target schema pre-created by another role; the fix is a schema of its own, never taking it over or changing it', async () => {
    const db = await emptyDatabase();
    await asRole(db, mallory, 'CREATE SCHEMA auth; GRANT USAGE, CREATE ON SCHEMA auth TO PUBLIC; CREATE TABLE auth.users (id int)');
    const result = await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth');
    expectRefused(result, `owned by role ${mallory.name}`, 'it holds 1 object(s) of its own, such as', 'table auth.users', `leave schema auth to role ${mallory.name}`, '--schema NAME', `CREATE SCHEMA authdb AUTHORIZATION ${deployer.name};`);
    // What is in another role's schema is that role's: no REVOKE on it, no DROP, no OWNER TO.
    expect(result.stderr).not.toMatch(/OWNER TO|REVOKE|DROP /);
    expect(await tables(db, 'auth')).toEqual(['users']);
  });

  it('refuses a schema holding objects another role planted before it lost CREATE (an overload of an API function)', async () => {
    const db = await emptyDatabase();
    await asRole(db, deployer, `CREATE SCHEMA auth; GRANT CREATE, USAGE ON SCHEMA auth TO ${mallory.name}`);
    await asRole(db, mallory, 'CREATE FUNCTION auth.register_user_with_token(p_email text) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$');
    await asRole(db, deployer, `REVOKE CREATE ON SCHEMA auth FROM ${mallory.name}`);
    const result = await cli(deployer.urlFor(db.url), 'migrate', 'up', '--schema', 'auth');
    expectRefused(result, `owned by ${mallory.name}`, 'function auth.register_user_with_token(text)', `they are ${mallory.name}'s, and authdb does not install beside them`);
    expect(result.stderr).not.toContain('DROP FUNCTION');
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
    const fix = `otherwise the table is not ${deployer.name}'s install: install authdb into a schema of its own`;
    for (const args of [
      ['migrate', 'up'],
      ['migrate', 'down'],
      ['migrate', 'status'],
      ['migrate', 'validate'],
      ['schema', 'check'],
      ['codegen', '--check'],
    ]) {
      const result = await cli(url, ...args, '--schema', 'auth');
      expectRefused(result, `owned by role ${mallory.name}`, fix);
      // Never "take the table over": it would bring along whatever mallory attached to it.
      expect(result.stderr).not.toMatch(/ALTER TABLE [^\n]*OWNER/);
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
    expectRefused(await cli(readerUrl, 'schema', 'check'), `if role ${owner} ran the migrations, connect as ${owner}`, `name it with --owner ${owner}`);
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

// Issue 14 §3: code of another role's attached to authdb's tables — a
// trigger, a rule, a policy's expression — runs with the rights of whoever
// uses the table: the install's owner, in every migration and API call.

/** A schema `spy` of mallory's with a log every role may append to and a trigger function writing to it. */
const SPY = `CREATE SCHEMA spy; GRANT USAGE ON SCHEMA spy TO PUBLIC;
  CREATE TABLE spy.log (who text, what text); GRANT INSERT ON spy.log TO PUBLIC;
  CREATE FUNCTION spy.record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO spy.log VALUES (current_user, TG_TABLE_NAME); RETURN NEW; END $$;
  CREATE FUNCTION spy.peek() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN INSERT INTO spy.log VALUES (current_user, 'policy'); RETURN true; END $$`;

async function spyLog(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(`SELECT who || ' ' || what AS line FROM spy.log`);
  return rows.map((r) => r.line);
}

describe('code of another role on authdb tables', () => {
  it('refuses a pre-created authdb_migrations carrying a trigger, a rule and a policy of another role; no printed fix takes the table over, and following them never runs the trigger', async () => {
    const db = await emptyDatabase();
    await asRole(
      db,
      mallory,
      `${SPY};
       CREATE SCHEMA auth; GRANT USAGE ON SCHEMA auth TO PUBLIC;
       CREATE TABLE auth.authdb_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL);
       CREATE TRIGGER audit AFTER INSERT ON auth.authdb_migrations FOR EACH ROW EXECUTE FUNCTION spy.record();
       CREATE RULE keep AS ON DELETE TO auth.authdb_migrations DO INSTEAD NOTHING;
       CREATE POLICY peek ON auth.authdb_migrations USING (spy.peek())`,
    );
    const url = deployer.urlFor(db.url);
    const first = await cli(url, 'migrate', 'up', '--schema', 'auth');
    // mallory's schema: the one problem reported is whose it is, and the fix is a schema of the deployer's own.
    expectRefused(first, `schema auth is owned by role ${mallory.name}`, 'table auth.authdb_migrations', `leave schema auth to role ${mallory.name}`);
    expect(first.stderr).not.toMatch(/OWNER TO|DROP |REVOKE/);
    // A superuser hands the schema over anyway (authdb never prints that): the table and its code stay refused.
    await db.pool.query(`ALTER SCHEMA auth OWNER TO ${deployer.name}`);
    const second = await cli(url, 'migrate', 'up', '--schema', 'auth');
    expectRefused(
      second,
      `trigger audit on table auth.authdb_migrations uses function spy.record() (owner ${mallory.name})`,
      `policy peek on table auth.authdb_migrations uses function spy.peek() (owner ${mallory.name})`,
      'rule keep on table auth.authdb_migrations: authdb creates no rules',
      `table auth.authdb_migrations is role ${mallory.name}'s (it holds that role's objects): install authdb into a schema of its own`,
      `otherwise the table is not ${deployer.name}'s install`,
    );
    expect(second.stderr).not.toMatch(/ALTER TABLE [^\n]*OWNER|DROP /);
    // Against the advice, a DBA hands the table over: the trigger, rule and policy still refuse it, each with the DROP its owner now runs.
    await db.pool.query(`ALTER TABLE auth.authdb_migrations OWNER TO ${deployer.name}`);
    const third = await cli(url, 'migrate', 'up', '--schema', 'auth');
    expectRefused(third, `(owner ${mallory.name})`, 'DROP TRIGGER audit ON auth.authdb_migrations;', 'DROP RULE keep ON auth.authdb_migrations;', 'DROP POLICY peek ON auth.authdb_migrations;');
    for (const args of [['migrate', 'status'], ['schema', 'check'], ['migrate', 'validate']]) {
      expectRefused(await cli(url, ...args, '--schema', 'auth'), 'DROP TRIGGER audit ON auth.authdb_migrations;');
    }
    expect(await tables(db, 'auth')).toEqual(['authdb_migrations']);
    await asRole(db, deployer, 'DROP TRIGGER audit ON auth.authdb_migrations; DROP RULE keep ON auth.authdb_migrations; DROP POLICY peek ON auth.authdb_migrations');
    const migrated = await cli(url, 'migrate', 'up', '--schema', 'auth');
    expect(migrated.stderr).not.toContain('AUTHDB_SCHEMA_TRUST');
    expect(migrated.code).toBe(0);
    expect(await spyLog(db)).toEqual([]);
  });

  it('refuses a trigger planted on users after the install, by a role given TRIGGER or the table itself, in every command', async () => {
    const db = await emptyDatabase();
    await migrateDatabase(db.url, { schema: 'auth' });
    await asRole(db, mallory, SPY);
    await db.pool.query(`GRANT USAGE ON SCHEMA auth TO ${mallory.name}; GRANT TRIGGER ON auth.users TO ${mallory.name}`);
    expectRefused(await cli(db.url, 'migrate', 'status', '--schema', 'auth'), `${mallory.name} may create triggers on table auth.users`, `REVOKE TRIGGER ON TABLE auth.users FROM ${mallory.name};`);
    await asRole(db, mallory, 'CREATE TRIGGER plant BEFORE INSERT OR UPDATE ON auth.users FOR EACH ROW EXECUTE FUNCTION spy.record()');
    await db.pool.query(`REVOKE TRIGGER ON auth.users FROM ${mallory.name}`);
    for (const args of [['migrate', 'up'], ['migrate', 'status'], ['migrate', 'validate'], ['schema', 'check'], ['codegen', '--check'], ['grant', '--role', deployer.name]]) {
      expectRefused(
        await cli(db.url, ...args, '--schema', 'auth'),
        `trigger plant on table auth.users uses function spy.record() (owner ${mallory.name})`,
        'DROP TRIGGER plant ON auth.users;',
      );
    }
    await db.pool.query('DROP TRIGGER plant ON auth.users');
    // A superuser hands roles over to mallory, who attaches a trigger: refused, and the fix asks mallory.
    await db.pool.query(`ALTER TABLE auth.roles OWNER TO ${mallory.name}`);
    await asRole(db, mallory, 'CREATE TRIGGER plant AFTER UPDATE ON auth.roles FOR EACH ROW EXECUTE FUNCTION spy.record()');
    const refused = await cli(db.url, 'migrate', 'up', '--schema', 'auth');
    expectRefused(refused, `trigger plant on table auth.roles uses function spy.record() (owner ${mallory.name})`, `table auth.roles is role ${mallory.name}'s (it holds that role's objects)`);
    expect(refused.stderr).not.toContain('DROP TABLE');
    expect(refused.stderr).not.toMatch(/ALTER TABLE [^\n]*OWNER/);
    expect(await spyLog(db)).toEqual([]);
  });
});
