import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { embeddedBinariesPackage } from './server-provider.js';

/**
 * A throwaway PostgreSQL cluster laid out as a Supabase project's database is
 * (supabase/postgres' init scripts, reduced to what changes authdb's world):
 *
 * - `supabase_admin` is the only superuser (the bootstrap role, renamed);
 * - `postgres` is NOT a superuser: CREATEDB, CREATEROLE, BYPASSRLS, the owner of
 *   database `postgres`, the role a project's connection string names;
 * - `anon`, `authenticated` (NOLOGIN NOINHERIT) and `service_role` (NOLOGIN
 *   NOINHERIT BYPASSRLS): the roles PostgREST switches to for the anon key, a
 *   signed-in user's JWT and the service key;
 * - `authenticator`: LOGIN NOINHERIT, member of the three: PostgREST's login;
 * - `supabase_auth_admin` owns schema `auth`, with Supabase Auth's own `auth.users`;
 * - default privileges grant ALL on tables, sequences and functions to anon,
 *   authenticated and service_role: in `public` (for postgres and
 *   supabase_admin) and, for postgres, in every schema.
 *
 * Roles are cluster-wide and these names are fixed, so it is a cluster of its
 * own (the binaries of TEST_POSTGRES_VERSION), not a database on the shared
 * test server.
 */
export interface SupabaseCluster {
  /** URL of database `postgres` as `role` (each has a random password). */
  url(role: SupabaseLoginRole): string;
  stop(): Promise<void>;
}

/** The roles of a Supabase database that log in. */
export type SupabaseLoginRole = 'supabase_admin' | 'postgres' | 'authenticator' | 'supabase_auth_admin';

/** The roles PostgREST switches to, by the key or JWT a request carries. */
export type PostgrestRole = 'anon' | 'authenticated' | 'service_role';

export async function startSupabaseCluster(): Promise<SupabaseCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'authdb-supabase-'));
  const binariesPackage = embeddedBinariesPackage();
  const cluster = new EmbeddedCluster({ dir, ephemeral: true, ...(binariesPackage ? { binariesPackage } : {}) });
  try {
    await cluster.initialise();
    await cluster.start();
    const bootstrap = new URL(await cluster.superuserUrl());
    const passwords = new Map<SupabaseLoginRole, string>([
      ['postgres', randomBytes(12).toString('hex')],
      ['authenticator', randomBytes(12).toString('hex')],
      ['supabase_auth_admin', randomBytes(12).toString('hex')],
    ]);
    const url = (role: SupabaseLoginRole): string => {
      const u = new URL(bootstrap);
      u.username = role;
      const password = passwords.get(role);
      if (password !== undefined) u.password = password;
      return u.toString();
    };
    await renameBootstrapSuperuser(bootstrap);
    await run(url('supabase_admin'), rolesSql(passwords));
    await run(url('supabase_auth_admin'), AUTH_SCHEMA_SQL);
    await run(url('postgres'), POSTGRES_DEFAULTS_SQL);
    return {
      url,
      stop: async () => {
        await cluster.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The bootstrap superuser becomes `supabase_admin` (keeping its SCRAM password), so that `postgres` can be an ordinary role. */
async function renameBootstrapSuperuser(bootstrap: URL): Promise<void> {
  const helper = `authdb_rename_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await run(bootstrap.toString(), `CREATE ROLE ${helper} SUPERUSER LOGIN PASSWORD '${password}'`);
  const asHelper = new URL(bootstrap);
  asHelper.username = helper;
  asHelper.password = password;
  await run(asHelper.toString(), 'ALTER ROLE postgres RENAME TO supabase_admin');
  const admin = new URL(bootstrap);
  admin.username = 'supabase_admin';
  await run(admin.toString(), `DROP ROLE ${helper}`);
}

function rolesSql(passwords: ReadonlyMap<SupabaseLoginRole, string>): string {
  const password = (role: SupabaseLoginRole): string => passwords.get(role) ?? '';
  return `
    CREATE ROLE postgres LOGIN CREATEDB CREATEROLE REPLICATION BYPASSRLS PASSWORD '${password('postgres')}';
    ALTER DATABASE postgres OWNER TO postgres;
    CREATE ROLE anon NOLOGIN NOINHERIT;
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD '${password('authenticator')}';
    GRANT anon, authenticated, service_role TO authenticator;
    GRANT anon, authenticated, service_role TO postgres WITH ADMIN OPTION;
    ALTER ROLE anon SET statement_timeout = '3s';
    ALTER ROLE authenticated SET statement_timeout = '8s';
    CREATE ROLE supabase_auth_admin LOGIN NOINHERIT CREATEROLE PASSWORD '${password('supabase_auth_admin')}';
    GRANT CREATE ON DATABASE postgres TO supabase_auth_admin;
    CREATE SCHEMA extensions;
    GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;
    GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
    ALTER DATABASE postgres SET search_path = "$user", public, extensions;`;
}

/** Supabase Auth's own schema: not authdb's, and the reason authdb's schema is not called `auth`. */
const AUTH_SCHEMA_SQL = `
  CREATE SCHEMA auth;
  GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role, postgres;
  CREATE TABLE auth.users (
    instance_id uuid, id uuid PRIMARY KEY, aud varchar(255), role varchar(255), email varchar(255) UNIQUE,
    encrypted_password varchar(255), email_confirmed_at timestamptz, created_at timestamptz, updated_at timestamptz);
  CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
  GRANT ALL ON auth.users TO postgres;`;

/** What postgres' own default privileges give: ALL to the API roles, in public and in every schema it creates. */
const POSTGRES_DEFAULTS_SQL = `
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
  ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;`;

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
