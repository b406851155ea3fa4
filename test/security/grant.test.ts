import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationFunctions } from '../../src/contract/application-role.js';
import { readContractFile, DEFAULT_CONTRACT_FILE } from '../../src/contract/check.js';
import { createAuthDb } from '../../src/index.js';
import { runMain, type CliResult } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { sqlstateAs as sqlstateAsRole, TestRoles, type TestRole } from '../support/roles.js';

// Issue 7 §3: `authdb grant --role NAME` gives an application role USAGE on
// the schema and EXECUTE on the application functions, nothing else; the
// tests connect as that role.

const roles = new TestRoles();
let db: TestDatabase;
let app: TestRole;
let job: TestRole;

beforeAll(async () => {
  db = await createMigratedDatabase();
  app = await roles.create('authdb_grant_app');
  job = await roles.create('authdb_grant_job');
});

afterAll(async () => {
  await db.close();
  await roles.dropAll([]);
});

function grant(...args: string[]): Promise<CliResult> {
  return runMain(['grant', '--database-url', db.url, ...args]);
}

/** Every ACL entry of the schema and its objects naming `role`, as text (PUBLIC's entries are the same for every role). */
async function aclOf(role: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(
    `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT 'schema ' || n.nspname || ' ' || e.privilege_type AS line
       FROM pg_namespace n, aclexplode(n.nspacl) e WHERE n.nspname = 'public' AND e.grantee = (SELECT oid FROM r)
     UNION ALL
     SELECT 'relation ' || c.relname || ' ' || e.privilege_type
       FROM pg_class c, aclexplode(c.relacl) e WHERE c.relnamespace = 'public'::regnamespace AND e.grantee = (SELECT oid FROM r)
     UNION ALL
     SELECT 'function ' || p.proname || '(' || oidvectortypes(p.proargtypes) || ') ' || e.privilege_type
       FROM pg_proc p, aclexplode(p.proacl) e WHERE p.pronamespace = 'public'::regnamespace AND e.grantee = (SELECT oid FROM r)
     ORDER BY 1`,
    [role],
  );
  return rows.map((r) => r.line);
}

function sqlstateAs(role: TestRole, sql: string): Promise<string | undefined> {
  return sqlstateAsRole(db.url, role, sql);
}

describe('authdb grant', () => {
  it('gives USAGE on the schema and EXECUTE on the application functions of the contract, nothing else; a second run changes nothing', async () => {
    const first = await grant('--role', app.name);
    expect(first.stderr).toContain(`granted to role "${app.name}"`);
    expect(first.code).toBe(0);
    const expected = applicationFunctions(await readContractFile(DEFAULT_CONTRACT_FILE)).map((fn) => `function ${fn} EXECUTE`);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.some((line) => line.includes('purge_expired'))).toBe(false);
    expect(await aclOf(app.name)).toEqual([...expected, 'schema public USAGE'].sort());
    const granted = await aclOf(app.name);
    const { rows: before } = await db.pool.query<{ acl: string }>(`SELECT string_agg(coalesce(proacl::text, ''), ';' ORDER BY oid) AS acl FROM pg_proc WHERE pronamespace = 'public'::regnamespace`);
    expect((await grant('--role', app.name)).code).toBe(0);
    const { rows: after } = await db.pool.query<{ acl: string }>(`SELECT string_agg(coalesce(proacl::text, ''), ';' ORDER BY oid) AS acl FROM pg_proc WHERE pronamespace = 'public'::regnamespace`);
    expect(after).toEqual(before);
    expect(await aclOf(app.name)).toEqual(granted);
  });

  it('is enough to register, verify, sign in and compute canonical_email as that role, and every table read or write fails with 42501', async () => {
    expect((await grant('--role', app.name)).code).toBe(0);
    const authDb = createAuthDb({ connection: app.urlFor(db.url) });
    try {
      const { token, userId, registrationSecret } = await authDb.registerUser({ email: 'granted@example.com', password: 'pw' });
      expect(await authDb.verifyEmail(token, { registrationSecret })).toEqual({ userId });
      expect((await authDb.verifyPassword({ email: 'Granted@Example.com', password: 'pw' }))?.userId).toBe(userId);
      expect(await authDb.verifyPassword({ email: 'granted@example.com', password: 'wrong' })).toBeUndefined();
    } finally {
      await authDb.destroy();
    }
    for (const table of ['users', 'email_verification_tokens', 'roles', 'authdb_migrations']) {
      for (const statement of [
        `SELECT * FROM public.${table}`,
        `DELETE FROM public.${table}`,
        `UPDATE public.${table} SET created_at = created_at`,
        `INSERT INTO public.${table} DEFAULT VALUES`,
        `TRUNCATE public.${table}`,
      ]) {
        if (table === 'authdb_migrations' && statement.startsWith('UPDATE')) continue; // no created_at column
        expect(await sqlstateAs(app, statement), statement).toBe('42501');
      }
    }
    expect(await sqlstateAs(app, `SELECT public.purge_expired_email_verification_tokens()`)).toBe('42501');
    expect(await sqlstateAs(app, `SELECT public.authdb_email_ascii_canonical('a@b.co')`)).toBe('42501');
    expect(await sqlstateAs(app, `SELECT public.canonical_email('Ada@Example.COM.')`)).toBeUndefined();
  });

  it('--maintenance adds the purge function; --revoke takes away exactly what it gave', async () => {
    expect(await aclOf(job.name)).toEqual([]);
    expect((await grant('--role', job.name, '--maintenance')).code).toBe(0);
    expect(await aclOf(job.name)).toContain('function purge_expired_email_verification_tokens(interval) EXECUTE');
    expect(await sqlstateAs(job, `SELECT public.purge_expired_email_verification_tokens()`)).toBeUndefined();
    const revoked = await grant('--role', job.name, '--maintenance', '--revoke');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`REVOKE USAGE ON SCHEMA "public" FROM "${job.name}";`);
    expect(await aclOf(job.name)).toEqual([]);
  });

  it('refuses PUBLIC, a missing role, and the HTTP-gateway roles anon/authenticated unless --allow-gateway-role, saying why', async () => {
    for (const name of ['PUBLIC', 'public']) {
      const result = await grant('--role', name);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('refusing to grant to PUBLIC');
      expect(result.stderr).toContain('[AUTHDB_GRANT_ROLE]');
    }
    const missing = await grant('--role', 'authdb_no_such_role');
    expect(missing.stderr).toContain('role "authdb_no_such_role" does not exist');
    expect(missing.code).toBe(1);
    // anon/authenticated are cluster-wide names: create them only when absent, drop them after.
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'anon'`);
    const created = rows[0]?.n === 0;
    if (created) await db.pool.query('CREATE ROLE anon NOLOGIN');
    try {
      const refused = await grant('--role', 'anon');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('return the plaintext verification token');
      expect(refused.stderr).toContain('--allow-gateway-role');
      expect(await aclOf('anon')).toEqual([]);
      // A role the gateway role is a member of (here through another role) gives it the same.
      await db.pool.query('CREATE ROLE authdb_grant_shared NOLOGIN; CREATE ROLE authdb_grant_middle NOLOGIN; GRANT authdb_grant_shared TO authdb_grant_middle; GRANT authdb_grant_middle TO anon');
      try {
        const viaGroup = await grant('--role', 'authdb_grant_shared');
        expect(viaGroup.code).toBe(1);
        expect(viaGroup.stderr).toContain('the HTTP-gateway role "anon" is a member of it');
        expect(await aclOf('authdb_grant_shared')).toEqual([]);
      } finally {
        await db.pool.query('DROP ROLE authdb_grant_middle; DROP ROLE authdb_grant_shared');
      }
      expect((await grant('--role', 'anon', '--allow-gateway-role')).code).toBe(0);
      expect((await grant('--role', 'anon', '--allow-gateway-role', '--revoke')).code).toBe(0);
      expect(await aclOf('anon')).toEqual([]);
    } finally {
      if (created) await db.pool.query('DROP ROLE anon');
    }
    const usage = await grant();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--role NAME is required');
  });
});
