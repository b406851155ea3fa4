import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRolePrivileges as apiRolePrivilegesOf, queryAs } from '../support/supabase-queries.js';
import { runCli, type CliResult } from '../support/cli.js';
import { postgrestRpc, type RpcResponse } from '../support/postgrest.js';
import { startSupabaseCluster, type PostgrestRole, type SupabaseCluster } from '../support/supabase-cluster.js';

// A Supabase project's database, as its team installs authdb: through the CLI
// as `postgres` (not a superuser there), into a schema of authdb's own (`auth`
// is Supabase Auth's), then `grant` to service_role — the role of the backend's
// service key — and every API function called the way PostgREST calls it.

const SCHEMA = 'authdb';
let supabase: SupabaseCluster;

beforeAll(async () => {
  supabase = await startSupabaseCluster();
}, 120_000);

afterAll(async () => {
  await supabase.stop();
});

function authdb(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: { DATABASE_URL: supabase.url('postgres') } });
}

function rpc(role: PostgrestRole, fn: string, body: Record<string, unknown>): Promise<RpcResponse> {
  return postgrestRpc(supabase.url('authenticator'), { schema: SCHEMA, fn, body, role });
}

function asSupabaseAdmin<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  return queryAs<T>(supabase.url('supabase_admin'), sql, values);
}

/** Every privilege any Supabase API role holds on anything in the schema, or on the schema itself. */
function apiRolePrivileges(): Promise<string[]> {
  return apiRolePrivilegesOf(supabase.url('supabase_admin'), SCHEMA);
}

const API_CALLS: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['canonical_email', { p_email: 'Someone@Example.com' }],
  ['register_user_with_token', { p_email: 'someone@example.com' }],
  ['resend_email_verification', { p_email: 'someone@example.com' }],
  ['preview_email_verification', { p_token: 'x' }],
  ['verify_email', { p_token: 'x' }],
  ['sign_in_credentials', { p_email: 'someone@example.com' }],
  ['purge_expired_email_verification_tokens', {}],
];

describe('authdb on a Supabase database, from the CLI and through PostgREST', { timeout: 180_000 }, () => {
  it('refuses Supabase Auth\'s schema auth with a fix that leaves it to supabase_auth_admin, and creates nothing', async () => {
    const result = await authdb('migrate', 'up', '--schema', 'auth');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('schema auth is owned by role supabase_auth_admin');
    expect(result.stderr).toContain('leave schema auth to role supabase_auth_admin');
    expect(result.stderr).toContain('--schema NAME');
    expect(result.stderr).not.toMatch(/OWNER TO|DROP |REVOKE/);
    const tables = await asSupabaseAdmin<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'auth' ORDER BY 1`);
    expect(tables.map((t) => t.name)).toEqual(['users']);
  });

  it('installs as postgres (no superuser) into schema authdb; the API roles get nothing the default privileges offered', async () => {
    const up = await authdb('migrate', 'up', '--schema', SCHEMA);
    expect(up.stderr).toContain(`(schema "${SCHEMA}")`);
    expect(up.code).toBe(0);
    expect(await apiRolePrivileges()).toEqual([]);
    const check = await authdb('schema', 'check', '--schema', SCHEMA);
    expect(check.stderr + check.stdout).not.toContain('drift');
    expect(check.code).toBe(0);
  });

  it('anon and authenticated reach no function and no table, before and after the grant to service_role', async () => {
    for (const role of ['anon', 'authenticated'] as const) {
      for (const [fn, body] of API_CALLS) {
        const response = await rpc(role, fn, body);
        expect(response, `${role} → ${fn}`).toMatchObject({ status: role === 'anon' ? 401 : 403, body: { code: '42501' } });
      }
    }
    const grant = await authdb('grant', '--role', 'service_role', '--schema', SCHEMA);
    expect(grant.stderr + grant.stdout).toContain('service_role');
    expect(grant.code).toBe(0);
    for (const role of ['anon', 'authenticated'] as const) {
      for (const [fn, body] of API_CALLS) expect((await rpc(role, fn, body)).status, `${role} → ${fn}`).toBe(role === 'anon' ? 401 : 403);
    }
    // grant --check: authenticator reaches the functions only as the gateway's login (SET ROLE service_role for a
    // service-key request) — not a stray membership, and no fix that revokes Supabase's own grant.
    const check = await authdb('grant', '--check', '--schema', SCHEMA);
    expect(check.stdout).toContain(`role "authenticator": 6 function(s), through "authenticator" → "service_role": the HTTP gateway's login`);
    expect(check.stdout).not.toContain('REVOKE');
    expect(check.stderr).toContain('none that should not');
    expect(check.code).toBe(0);
    // Tables: not even a schema USAGE for anon or authenticated.
    const privileges = await apiRolePrivileges();
    expect(privileges.filter((p) => / (anon|authenticated) ON /.test(p))).toEqual([]);
    expect(privileges.filter((p) => /^(SELECT|INSERT|UPDATE|DELETE|TRUNCATE)/.test(p))).toEqual([]);
  });

  it('service_role registers, previews, verifies, resends and signs in through RPC; AU… errors are HTTP 400 with code AU00x', async () => {
    const registered = await rpc('service_role', 'register_user_with_token', { p_email: 'Ada@Example.com', p_password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', p_phone: '+14155550100' });
    expect(registered.status).toBe(200);
    const [row] = registered.body as Array<{ user_id: string; token: string; registration_secret: string; email: string; outcome: string }>;
    expect(row).toMatchObject({ email: 'ada@example.com', outcome: 'created' });

    const preview = await rpc('service_role', 'preview_email_verification', { p_token: row?.token, p_registration_secret: row?.registration_secret });
    expect(preview).toMatchObject({ status: 200, body: [{ user_id: row?.user_id, token_valid: true, registration_secret_matches: true }] });

    const verified = await rpc('service_role', 'verify_email', { p_token: row?.token, p_registration_secret: row?.registration_secret });
    expect(verified).toEqual({ status: 200, body: row?.user_id });

    const signIn = await rpc('service_role', 'sign_in_credentials', { p_email: 'ADA@example.com' });
    expect(signIn).toMatchObject({ status: 200, body: [{ user_id: row?.user_id, role: 'user' }] });

    const duplicate = await rpc('service_role', 'register_user_with_token', { p_email: 'ada@example.com' });
    expect(duplicate).toMatchObject({ status: 400, body: { code: 'AU001' } });
    const badPhone = await rpc('service_role', 'register_user_with_token', { p_email: 'grace@example.com', p_phone: 'not a phone' });
    expect(badPhone).toMatchObject({ status: 400, body: { code: 'AU006' } });
    const badEmail = await rpc('service_role', 'register_user_with_token', { p_email: 'no at sign' });
    expect(badEmail).toMatchObject({ status: 400, body: { code: 'AU005' } });
    const reused = await rpc('service_role', 'verify_email', { p_token: row?.token, p_registration_secret: row?.registration_secret });
    expect(reused).toMatchObject({ status: 400, body: { code: 'AU012' } });

    const pending = await rpc('service_role', 'register_user_with_token', { p_email: 'grace@example.com', p_min_resend_interval: '0 seconds' });
    expect(pending.status).toBe(200);
    const resend = await rpc('service_role', 'resend_email_verification', { p_email: 'grace@example.com', p_min_resend_interval: '0 seconds' });
    expect(resend).toMatchObject({ status: 200, body: [{ email: 'grace@example.com' }] });
    expect(await rpc('service_role', 'canonical_email', { p_email: 'Grace@EXAMPLE.com' })).toEqual({ status: 200, body: 'grace@example.com' });

    // The maintenance function is not the backend's: a scheduled job's role gets it with --maintenance.
    expect((await rpc('service_role', 'purge_expired_email_verification_tokens', {})).status).toBe(403);
  });

  it('grant --check: a role made to look like the gateway login (a member of anon and of service_role) is still a stray membership', async () => {
    await asSupabaseAdmin(`CREATE ROLE lookalike LOGIN INHERIT PASSWORD 'lookalike-pw'; GRANT service_role, anon TO lookalike`);
    try {
      const check = await authdb('grant', '--check', '--schema', SCHEMA);
      expect(check.stdout).toContain(`role "lookalike": 6 function(s), through "lookalike" → "service_role"\n  problem: it gets them by membership`);
      expect(check.stdout).toContain(`the HTTP gateway's login`); // authenticator, still
      expect(check.stderr).toContain('should not: "lookalike"');
      expect(check.code).toBe(1);
    } finally {
      await asSupabaseAdmin('DROP ROLE lookalike');
    }
  });

  it('a backend login of its own, created by postgres: grant works, and the log settings are printed for a superuser', async () => {
    const owner = new pg.Client({ connectionString: supabase.url('postgres') });
    await owner.connect();
    try {
      await owner.query(`CREATE ROLE supa_backend LOGIN PASSWORD 'supa-backend-pw'`);
    } finally {
      await owner.end();
    }
    const grant = await authdb('grant', '--role', 'supa_backend', '--schema', SCHEMA);
    expect(grant.stdout).toContain('GRANT EXECUTE ON FUNCTION "authdb"."register_user_with_token"');
    expect(grant.stderr).toContain(`ALTER ROLE "supa_backend" SET log_statement = 'none'`);
    expect(grant.code).toBe(0);

    const url = new URL(supabase.url('postgres'));
    url.username = 'supa_backend';
    url.password = 'supa-backend-pw';
    const backend = new pg.Client({ connectionString: url.toString() });
    await backend.connect();
    try {
      const { rows } = await backend.query<{ outcome: string }>(`SELECT outcome FROM authdb.register_user_with_token(p_email => 'zed@example.com')`);
      expect(rows).toEqual([{ outcome: 'created' }]);
      await expect(backend.query('SELECT * FROM authdb.users')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await backend.end();
    }
  });

  it('down --all and up again take the grant away with the functions: service_role is refused until grant runs again', async () => {
    expect((await authdb('migrate', 'down', '--all', '--force', '--schema', SCHEMA)).code).toBe(0);
    expect((await authdb('migrate', 'up', '--schema', SCHEMA)).code).toBe(0);
    expect(await rpc('service_role', 'canonical_email', { p_email: 'a@example.com' })).toMatchObject({ status: 403, body: { code: '42501' } });
    expect((await authdb('grant', '--role', 'service_role', '--schema', SCHEMA)).code).toBe(0);
    expect(await rpc('service_role', 'canonical_email', { p_email: 'a@example.com' })).toEqual({ status: 200, body: 'a@example.com' });
  });
});
