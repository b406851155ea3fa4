import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, createMigratedDatabase, serverVersion, type TestDatabase } from '../support/database.js';
import { sqlstateAs as sqlstateAsRole, TestRoles, type TestRole } from '../support/roles.js';

// Issue 14 §5: `authdb grant` refuses a role that reaches authdb's tables
// without the functions; `grant --check` finds every role that can call the
// API, a later `GRANT app TO other` included; and the README's log settings
// are applied where the connected role may (a superuser), printed otherwise.

const roles = new TestRoles();
let db: TestDatabase;
/** A database migrated into schema auth by `deployer`, a role that is not a superuser. */
let own: TestDatabase;
let deployer: TestRole;

beforeAll(async () => {
  db = await createMigratedDatabase();
  own = await createEmptyDatabase();
  deployer = await roles.create('authdb_gr_deployer');
  await own.pool.query(`GRANT CREATE ON DATABASE ${own.name} TO ${deployer.name}`);
  const migrated = await runMain(['migrate', 'up', '--schema', 'auth', '--database-url', deployer.urlFor(own.url)]);
  expect(migrated.code).toBe(0);
});

afterAll(async () => {
  await Promise.all([db.close(), own.close()]);
  await roles.dropAll([]);
});

function grant(url: string, ...args: string[]): Promise<CliResult> {
  return runMain(['grant', '--database-url', url, ...args]);
}

function sqlstateAs(database: TestDatabase, role: TestRole, sql: string): Promise<string | undefined> {
  return sqlstateAsRole(database.url, role, sql);
}

async function executeGrants(database: TestDatabase, role: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_proc p, aclexplode(p.proacl) e WHERE e.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [role],
  );
  return rows[0]?.n ?? 0;
}

async function roleSettings(database: TestDatabase, role: string): Promise<string[]> {
  const { rows } = await database.pool.query<{ s: string[] | null }>(
    `SELECT s.setconfig AS s FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = $1 AND s.setdatabase = 0`,
    [role],
  );
  return [...(rows[0]?.s ?? [])].sort();
}

function expectRefused(result: CliResult, ...fragments: string[]): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('[AUTHDB_GRANT_ROLE]');
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
  expect(result.stderr).toContain('Use a dedicated login role');
}

describe('authdb grant refuses a role that reaches the tables without the functions', () => {
  it('refuses a superuser, a member of a superuser and the data-reading predefined roles (not BYPASSRLS, which reads nothing without a table privilege), each of which can otherwise read users or change roles', async () => {
    const superuser = await roles.create('authdb_gr_super', 'SUPERUSER');
    expect(await sqlstateAs(db, superuser, 'SELECT email FROM public.users')).toBeUndefined();
    expectRefused(await grant(db.url, '--role', superuser.name), `refusing to grant to "${superuser.name}": it is a superuser`, `ALTER ROLE "${superuser.name}" NOSUPERUSER;`);

    // BYPASSRLS only skips row-level security policies: without a table privilege it reads nothing
    // (Supabase's service_role has it), so it is granted the API like any other role.
    const bypass = await roles.create('authdb_gr_bypass', 'BYPASSRLS');
    const granted = await grant(db.url, '--role', bypass.name);
    expect(granted.code, granted.stderr).toBe(0);
    expect(await sqlstateAs(db, bypass, 'SELECT email FROM public.users')).toBe('42501');

    const reader = await roles.create('authdb_gr_reader', 'IN ROLE pg_read_all_data');
    expect(await sqlstateAs(db, reader, 'SELECT email FROM public.users')).toBeUndefined();
    expectRefused(await grant(db.url, '--role', reader.name), 'it is a member of "pg_read_all_data"', `REVOKE "pg_read_all_data" FROM "${reader.name}";`);

    // Through another role: the REVOKE names the membership that leads there.
    const writer = await roles.create('authdb_gr_writer');
    await db.pool.query(`CREATE ROLE ${writer.name}_group IN ROLE pg_write_all_data; GRANT ${writer.name}_group TO ${writer.name}`);
    try {
      // pg_write_all_data writes without reading: a self-assignable role of its own making.
      expect(await sqlstateAs(db, writer, `INSERT INTO public.roles (name, self_assignable) VALUES ('superadmin', true)`)).toBeUndefined();
      expectRefused(await grant(db.url, '--role', writer.name), `it is a member of "pg_write_all_data", which reads or writes every table or the server's files through "${writer.name}_group"`, `REVOKE "${writer.name}_group" FROM "${writer.name}";`);
      await db.pool.query(`DELETE FROM public.roles WHERE name = 'superadmin'`);
    } finally {
      await db.pool.query(`DROP ROLE ${writer.name}_group`);
    }

    const program = await roles.create('authdb_gr_program', 'IN ROLE pg_execute_server_program');
    expectRefused(await grant(db.url, '--role', program.name), 'it is a member of "pg_execute_server_program"');

    const { rows } = await db.pool.query<{ me: string }>('SELECT current_user AS me');
    const sidekick = await roles.create('authdb_gr_sidekick', `IN ROLE ${rows[0]?.me ?? ''}`);
    expectRefused(await grant(db.url, '--role', sidekick.name), 'it is a member of the install owner');
    await db.pool.query(`REVOKE ${rows[0]?.me ?? ''} FROM ${sidekick.name}`); // it would hold the API for --check below

    const creator = await roles.create('authdb_gr_creator', 'CREATEROLE');
    const viaCreateRole = await grant(db.url, '--role', creator.name);
    if ((await serverVersion(db)) < 160000) expectRefused(viaCreateRole, 'it has CREATEROLE', `ALTER ROLE "${creator.name}" NOCREATEROLE;`);
    else expect(viaCreateRole.code).toBe(0);

    for (const role of [superuser, reader, writer, program, sidekick]) expect(await executeGrants(db, role.name)).toBe(0);
    expect(await executeGrants(db, bypass.name)).toBeGreaterThan(0);
  });

  it('refuses REPLICATION (a base backup copies every password hash) and a role holding a privilege on one of the tables, directly or through another role', async () => {
    const replicator = await roles.create('authdb_gr_repl', 'REPLICATION');
    expectRefused(await grant(db.url, '--role', replicator.name), 'it has REPLICATION', `ALTER ROLE "${replicator.name}" NOREPLICATION;`);

    const reader = await roles.create('authdb_gr_tbl');
    await db.pool.query(`GRANT SELECT (email, password_hash) ON public.users TO ${reader.name}`);
    expect(await sqlstateAs(db, reader, 'SELECT email, password_hash FROM public.users')).toBeUndefined();
    expectRefused(await grant(db.url, '--role', reader.name), 'it holds a privilege on the table "public"."users"', `REVOKE ALL ON TABLE "public"."users" FROM "${reader.name}";`);

    const viaGroup = await roles.create('authdb_gr_viagroup');
    await db.pool.query(`CREATE ROLE ${viaGroup.name}_group; GRANT DELETE ON public.email_verification_tokens TO ${viaGroup.name}_group; GRANT ${viaGroup.name}_group TO ${viaGroup.name}`);
    try {
      expectRefused(await grant(db.url, '--role', viaGroup.name), 'it holds a privilege on the table "public"."email_verification_tokens"');
      for (const role of [replicator, reader, viaGroup]) expect(await executeGrants(db, role.name)).toBe(0);

      // grant --check reports a grantee that later gains a table privilege.
      const app = await roles.create('authdb_gr_later');
      expect((await grant(db.url, '--role', app.name)).code).toBe(0);
      await db.pool.query(`GRANT SELECT ON public.users TO ${app.name}`);
      const check = await grant(db.url, '--check');
      expect(check.code).toBe(1);
      expect(check.stderr + check.stdout).toContain('it holds a privilege on the table "public"."users"');
      await db.pool.query(`REVOKE SELECT ON public.users FROM ${app.name}`);
      expect((await grant(db.url, '--role', app.name, '--revoke')).code).toBe(0);
    } finally {
      await db.pool.query(`REVOKE SELECT (email, password_hash) ON public.users FROM ${reader.name}; DROP OWNED BY ${viaGroup.name}_group; DROP ROLE ${viaGroup.name}_group`);
    }
  });

  it('refuses a member of a non-superuser install owner, which can update roles through it', async () => {
    const sidekick = await roles.create('authdb_gr_side');
    await own.pool.query(`GRANT ${deployer.name} TO ${sidekick.name}`);
    expect(await sqlstateAs(own, sidekick, `UPDATE auth.roles SET self_assignable = true WHERE name = 'admin' RETURNING name`)).toBeUndefined();
    await own.pool.query(`UPDATE auth.roles SET self_assignable = false WHERE name = 'admin'`);
    expectRefused(
      await grant(deployer.urlFor(own.url), '--schema', 'auth', '--role', sidekick.name),
      `it is a member of the install owner "${deployer.name}", which owns every table`,
      `REVOKE "${deployer.name}" FROM "${sidekick.name}";`,
    );
    expect(await executeGrants(own, sidekick.name)).toBe(0);
    await own.pool.query(`REVOKE ${deployer.name} FROM ${sidekick.name}`);
  });
});

describe('authdb grant sets the log settings where it may', () => {
  it('connected as a superuser, applies them with ALTER ROLE … SET, once', async () => {
    const app = await roles.create('authdb_gr_logged');
    const first = await grant(db.url, '--role', app.name);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`ALTER ROLE "${app.name}" SET log_statement = 'none';`);
    const expected = ['log_parameter_max_length=0', 'log_parameter_max_length_on_error=0', 'log_statement=none', 'plan_cache_mode=force_generic_plan'];
    if ((await serverVersion(db)) >= 160000) expected.unshift('auto_explain.log_parameter_max_length=0');
    expect(await roleSettings(db, app.name)).toEqual(expected);
    const again = await grant(db.url, '--role', app.name);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('ALTER ROLE');
    expect(again.stderr).not.toContain('only a superuser');
    // In a session of the role, the settings are in force.
    const client = new pg.Client({ connectionString: app.urlFor(db.url) });
    await client.connect();
    try {
      const { rows } = await client.query<{ s: string }>(`SELECT current_setting('log_statement') || ',' || current_setting('log_parameter_max_length') AS s`);
      expect(rows[0]?.s).toBe('none,0');
    } finally {
      await client.end();
    }
  });

  it('connected as a non-superuser installer, grants and prints the exact statements for a superuser to run', async () => {
    const app = await roles.create('authdb_gr_unlogged');
    const result = await grant(deployer.urlFor(own.url), '--schema', 'auth', '--role', app.name);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('ALTER ROLE');
    expect(result.stderr).toContain(`only a superuser may set role "${app.name}"'s log settings`);
    expect(result.stderr).toContain(`  ALTER ROLE "${app.name}" SET log_parameter_max_length = '0';`);
    expect(await roleSettings(own, app.name)).toEqual([]);
    // The printed statements, run by a superuser, are what the role needs: the next run prints none.
    const printed = result.stderr.split('\n').filter((line) => line.startsWith('  ALTER ROLE'));
    for (const statement of printed) await own.pool.query(statement);
    const again = await grant(deployer.urlFor(own.url), '--schema', 'auth', '--role', app.name);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('only a superuser');
  });
});

describe('authdb grant --check', () => {
  it('lists the roles that can call the API and exits 1 for a member of a grantee, PUBLIC and a grantee grant refuses', async () => {
    const app = await roles.create('authdb_gr_checked');
    expect((await grant(db.url, '--role', app.name)).code).toBe(0);
    const clean = await grant(db.url, '--check');
    expect(clean.stdout).toContain(`role "${app.name}": 6 function(s), granted`);
    expect(clean.code).toBe(0);

    // A later GRANT app TO … (through a group): no grant run saw it.
    const browser = await roles.create('authdb_gr_browser');
    await db.pool.query(`CREATE ROLE ${browser.name}_mid; GRANT ${app.name} TO ${browser.name}_mid; GRANT ${browser.name}_mid TO ${browser.name}`);
    try {
      expect(await sqlstateAs(db, browser, `SELECT public.canonical_email('a@example.com')`)).toBeUndefined();
      const gateway = await grant(db.url, '--check');
      expect(gateway.code).toBe(1);
      expect(gateway.stdout).toContain(`role "${browser.name}": 6 function(s), through "${browser.name}" → "${browser.name}_mid" → "${app.name}"\n  problem: it gets them by membership`);
      expect(gateway.stdout).toContain(`REVOKE "${browser.name}_mid" FROM "${browser.name}"`);
      expect(gateway.stderr).toContain(`"${browser.name}"`);
    } finally {
      await db.pool.query(`DROP ROLE ${browser.name}_mid`);
    }
    expect((await grant(db.url, '--check')).code).toBe(0);

    const reader = await roles.create('authdb_gr_granted_reader', 'IN ROLE pg_read_all_data');
    await db.pool.query(`GRANT EXECUTE ON FUNCTION public.canonical_email(text) TO PUBLIC, ${reader.name}`);
    try {
      const wide = await grant(db.url, '--check');
      expect(wide.code).toBe(1);
      expect(wide.stdout).toContain('role "PUBLIC": 1 function(s), granted\n  problem: every role, present and future, can call them');
      expect(wide.stdout).toContain(`role "${reader.name}": 1 function(s), granted\n  problem: it is a member of "pg_read_all_data"`);
    } finally {
      await db.pool.query(`REVOKE EXECUTE ON FUNCTION public.canonical_email(text) FROM PUBLIC, ${reader.name}`);
    }
  });

  it('exits 1 for a member of the install owner, and runs as a monitoring role with --owner', async () => {
    const sidekick = await roles.create('authdb_gr_owner_member');
    const monitor = await roles.create('authdb_gr_monitor', 'IN ROLE pg_read_all_data');
    await own.pool.query(`GRANT ${deployer.name} TO ${sidekick.name}`);
    try {
      const result = await grant(monitor.urlFor(own.url), '--schema', 'auth', '--check', '--owner', deployer.name);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`role "${sidekick.name}": 7 function(s), as a member of the install owner "${deployer.name}"`);
    } finally {
      await own.pool.query(`REVOKE ${deployer.name} FROM ${sidekick.name}`);
    }
  });
});
