import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT_FILE } from '../../src/contract/check.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';

// Issue 7 §1: whatever default privileges the database has for the migrating
// role (Supabase: ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON
// TABLES/FUNCTIONS TO anon), the objects the migrations create end with
// exactly the privileges of the contract: nothing for any other role.

const roles = new TestRoles();
let db: TestDatabase;
let deployer: TestRole;
let anon: TestRole;

beforeAll(async () => {
  deployer = await roles.create('authdb_defacl_deployer');
  anon = await roles.create('authdb_defacl_anon');
  db = await createEmptyDatabase();
  await db.pool.query(`GRANT CREATE ON DATABASE ${db.name} TO ${deployer.name}`);
  await db.pool.query(`CREATE SCHEMA auth AUTHORIZATION ${deployer.name}`);
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} IN SCHEMA auth GRANT ALL ON TABLES TO ${anon.name}, PUBLIC`);
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} IN SCHEMA auth GRANT ALL ON FUNCTIONS TO ${anon.name}`);
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} IN SCHEMA auth GRANT ALL ON SEQUENCES TO ${anon.name}`);
  // Global entries too: for types, for schemas the engine creates, and one that takes the owner's own TRUNCATE away.
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} GRANT ALL ON TYPES TO ${anon.name}`);
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} GRANT ALL ON SCHEMAS TO ${anon.name}`);
  await db.pool.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${deployer.name} REVOKE TRUNCATE ON TABLES FROM ${deployer.name}`);
});

afterAll(async () => {
  await db.close();
  await roles.dropAll([]);
});

/** Every privilege `role` holds on an object of `schema` (or on the schema), as `kind name: privilege`. */
async function privilegesOf(role: string, schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ line: string }>(
    `SELECT 'schema ' || n.nspname || ': ' || e.privilege_type AS line
       FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) e
      WHERE n.nspname = $2 AND e.grantee IN (0, (SELECT oid FROM pg_roles WHERE rolname = $1))
     UNION ALL
     SELECT 'relation ' || c.relname || ': ' || e.privilege_type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) e
      WHERE n.nspname = $2 AND e.grantee IN (0, (SELECT oid FROM pg_roles WHERE rolname = $1))
     UNION ALL
     SELECT 'function ' || p.proname || ': ' || e.privilege_type
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) e
      WHERE n.nspname = $2 AND e.grantee IN (0, (SELECT oid FROM pg_roles WHERE rolname = $1))
     ORDER BY 1`,
    [role, schema],
  );
  return rows.map((r) => r.line);
}

describe('default privileges', () => {
  it('give nothing to other roles: migrate up into a schema with Supabase-style defaults matches the contract', async () => {
    const url = deployer.urlFor(db.url);
    expect((await runMain(['migrate', 'up', '--database-url', url, '--schema', 'auth'])).code).toBe(0);
    expect(await privilegesOf(anon.name, 'auth')).toEqual([]);
    const check = await runMain(['schema', 'check', '--database-url', url, '--schema', 'auth', '--contract', DEFAULT_CONTRACT_FILE]);
    expect(check.stdout).toBe('');
    expect(check.code).toBe(0);
  });

  it('give nothing to other roles on a schema and tracking table the engine creates, in every schema of the run', async () => {
    const url = deployer.urlFor(db.url);
    expect((await runMain(['migrate', 'up', '--database-url', url, '--schema', 'fresh', '--allow-second-install'])).code).toBe(0);
    expect(await privilegesOf(anon.name, 'fresh')).toEqual([]);
    const check = await runMain(['schema', 'check', '--database-url', url, '--schema', 'fresh']);
    expect(check.stdout).toBe('');
    expect(check.code).toBe(0);
    // And a down migration that recreates objects is covered as well.
    expect((await runMain(['migrate', 'down', '--all', '--database-url', url, '--schema', 'fresh'])).code).toBe(0);
    expect((await runMain(['migrate', 'up', '--database-url', url, '--schema', 'fresh', '--allow-second-install'])).code).toBe(0);
    expect(await privilegesOf(anon.name, 'fresh')).toEqual([]);
  });
});
