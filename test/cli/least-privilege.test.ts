import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// A least-privilege deployer: a DBA created its schema (owned by it), and the
// role has no CREATE on the database. authdb creates only what is missing,
// and a set-up statement it cannot run is an AUTHDB_SETUP error that names the
// statement, the missing privilege and the ways out.

const ROLE = `authdb_deployer_${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(12).toString('hex');

let db: TestDatabase;
let dir: TempDir;
let deployerUrl: string;

beforeAll(async () => {
  [db, dir] = await Promise.all([
    createEmptyDatabase(),
    writeMigrationDir({
      '20260101000001_accounts': { up: 'CREATE TABLE accounts (id int PRIMARY KEY);\n', down: 'DROP TABLE accounts;\n' },
    }),
  ]);
  await db.pool.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
  // No CREATE on the database (PUBLIC has none by default; made explicit), none on public.
  await db.pool.query(`REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC, ${ROLE}`);
  await db.pool.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  await db.pool.query(`CREATE SCHEMA "MyAuth" AUTHORIZATION ${ROLE}`);
  await db.pool.query('CREATE SCHEMA not_mine');
  await db.pool.query(`GRANT USAGE ON SCHEMA not_mine TO ${ROLE}`);
  const url = new URL(db.url);
  url.username = ROLE;
  url.password = PASSWORD;
  deployerUrl = url.toString();
});

afterAll(async () => {
  await db.pool.query(`DROP OWNED BY ${ROLE} CASCADE`);
  await db.close();
  await db.pool.end().catch(() => undefined);
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
  await admin.end();
  await dir.remove();
});

function deploy(schema: string): ReturnType<typeof runMain> {
  return runMain(['migrate', 'up', '--database-url', deployerUrl, '--migrations-dir', dir.path, '--schema', schema, '--allow-second-install']);
}

describe('a deployer without CREATE on the database', () => {
  it('migrates the schema it owns (created by a DBA)', async () => {
    const result = await deploy('MyAuth');
    expect(result.stderr).toContain('applied 1 migration(s) (schema "MyAuth")');
    expect(result.code).toBe(0);
    const { rows } = await db.pool.query<{ owner: string }>(`SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'MyAuth' AND tablename = 'accounts'`);
    expect(rows).toEqual([{ owner: ROLE }]);
    expect((await deploy('MyAuth')).stderr).toContain('nothing to apply');
  });

  it('a missing schema: AUTHDB_SETUP naming CREATE SCHEMA, the database privilege and both ways out', async () => {
    const result = await deploy('auth');
    expect(result.stderr).toContain('setting up schema "auth" failed: CREATE SCHEMA "auth": SQLSTATE 42501: permission denied for database');
    expect(result.stderr).toContain(`lacks the CREATE privilege on database "${db.name}"`);
    expect(result.stderr).toContain(`CREATE SCHEMA "auth" AUTHORIZATION "${ROLE}";`);
    expect(result.stderr).toContain(`GRANT CREATE ON DATABASE "${db.name}" TO "${ROLE}";`);
    expect(result.stderr).toContain('Nothing was migrated. [AUTHDB_SETUP]');
    expect(result.code).toBe(1);
  });

  it('a schema it may not create in: AUTHDB_SETUP naming CREATE TABLE, the schema privilege and the ways out', async () => {
    const result = await deploy('not_mine');
    expect(result.stderr).toContain('setting up schema "not_mine" failed: CREATE TABLE "not_mine"."authdb_migrations" (…): SQLSTATE 42501');
    expect(result.stderr).toContain('SQLSTATE 42501: permission denied for schema not_mine');
    // Never "take the schema over": the fixes are a grant by its owner, or a schema of the role's own.
    expect(result.stderr).not.toMatch(/OWNER TO/);
    expect(result.stderr).toContain(`CREATE SCHEMA authdb AUTHORIZATION "${ROLE}";`);
    expect(result.stderr).toContain(`GRANT CREATE ON SCHEMA "not_mine" TO "${ROLE}";`);
    expect(result.stderr).toContain('[AUTHDB_SETUP]');
    expect(result.code).toBe(1);
  });
});
