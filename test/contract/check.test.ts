import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT_FILE } from '../../src/contract/check.js';
import { serializeSnapshot, takeSnapshot } from '../../src/contract/snapshot.js';
import { runMain } from '../support/cli.js';
import { createMigratedDatabase, databaseUrl, type TestDatabase } from '../support/database.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// `schema check` against the committed schema/contract.json: a freshly
// migrated database must match it (this keeps the committed file honest), and
// any change to the database shows up as a readable, per-object diff.

const suffix = randomBytes(4).toString('hex');
const READER = `authdb_check_reader_${suffix}`;
const AUDITOR = `authdb_check_auditor_${suffix}`;
const APP = `authdb_check_app_${suffix}`;

const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
const databases: TestDatabase[] = [];
let tmp: TempDir;

beforeAll(async () => {
  await admin.connect();
  tmp = await createTempDir();
  // Two read-only roles: one through pg_read_all_data (no grant on any object,
  // so the schema stays as the contract describes it), one with plain grants.
  await admin.query(`CREATE ROLE ${READER} LOGIN PASSWORD 'reader-pw' IN ROLE pg_read_all_data`);
  await admin.query(`CREATE ROLE ${AUDITOR} LOGIN PASSWORD 'auditor-pw'`);
  await admin.query(`CREATE ROLE ${APP}`);
});

afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
  for (const role of [READER, AUDITOR, APP]) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
  await tmp.remove();
});

async function migrated(): Promise<TestDatabase> {
  const db = await createMigratedDatabase();
  databases.push(db);
  return db;
}

function as(db: TestDatabase, role: string, password: string): string {
  const url = new URL(db.url);
  url.username = role;
  url.password = password;
  return url.toString();
}

/** The role that ran the migrations (the test server's superuser), named by read-only roles with --owner. */
async function ownerOf(db: TestDatabase): Promise<string> {
  const { rows } = await db.pool.query<{ owner: string }>('SELECT current_user AS owner');
  return rows[0]?.owner ?? '';
}

function check(url: string, ...args: string[]): ReturnType<typeof runMain> {
  return runMain(['schema', 'check', '--database-url', url, ...args]);
}

describe('authdb schema check', () => {
  it('passes on a freshly migrated database against the committed schema/contract.json', async () => {
    const db = await migrated();
    const result = await check(db.url);
    expect(result.stderr).toContain(`matches the contract ${DEFAULT_CONTRACT_FILE}`);
    expect(result.code).toBe(0);
  });

  it('the committed contract is exactly what `schema dump` writes for a fresh database', async () => {
    const db = await migrated();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const dump = serializeSnapshot(await takeSnapshot(client).finally(() => client.end()));
    expect(await readFile(DEFAULT_CONTRACT_FILE, 'utf8')).toBe(dump);
  });

  it('reports a granted privilege, an altered default and an added column, and exits 1', async () => {
    const db = await migrated();
    await db.pool.query(`GRANT EXECUTE ON FUNCTION verify_email(text, text, text) TO ${APP}`);
    await db.pool.query('ALTER TABLE roles ALTER COLUMN self_assignable SET DEFAULT true');
    await db.pool.query('ALTER TABLE users ADD COLUMN nickname text');
    const result = await check(db.url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('does not match the contract');
    expect(result.stdout).toContain('1 added, 0 missing, 2 changed');
    expect(result.stdout).toContain(`~ column roles.self_assignable\n    default: "false" → "true"`);
    expect(result.stdout).toContain('+ column users.nickname  (in the database, not in the contract)\n    notNull: false\n    position: 10\n    type: "text"');
    expect(result.stdout).toContain(`~ function verify_email(text, text, text)\n    grants.${APP}: (absent) → ["EXECUTE"]`);
    expect(result.stdout).toContain('authdb schema dump --out');
  });

  it('reports a revoked grant, a dropped index and a replaced function body against a contract that has them', async () => {
    const db = await migrated();
    await db.pool.query(`GRANT EXECUTE ON FUNCTION verify_email(text, text, text) TO ${APP}`);
    const contract = join(tmp.path, 'granted.json');
    expect((await runMain(['schema', 'dump', '--database-url', db.url, '--out', contract])).code).toBe(0);

    await db.pool.query(`REVOKE EXECUTE ON FUNCTION verify_email(text, text, text) FROM ${APP}`);
    await db.pool.query('DROP INDEX email_verification_tokens_ended_at_idx');
    // One line of the real body changed: the input returned unnormalised.
    await db.pool.query(`DO $$ BEGIN
                           EXECUTE replace(pg_get_functiondef('authdb_normalize_phone(text)'::regprocedure), 'RETURN v_phone;', 'RETURN p_phone;');
                         END $$`);
    const result = await check(db.url, '--contract', contract);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`~ function verify_email(text, text, text)\n    grants.${APP}: ["EXECUTE"] → (absent)`);
    expect(result.stdout).toContain(
      '- index email_verification_tokens_ended_at_idx  (in the contract, missing from the database)\n' +
        '    definition: "CREATE INDEX email_verification_tokens_ended_at_idx ON email_verification_tokens USING btree (LEAST(expires_at, consumed_at, revoked_at))"\n' +
        '    table: "email_verification_tokens"\n' +
        '    valid: true',
    );
    expect(result.stdout).toMatch(/~ function authdb_normalize_phone\(text\)\n {4}body: (\d+) → \1 lines, changed as follows/);
    expect(result.stdout).toContain('      -     RETURN v_phone;\n      +     RETURN p_phone;');
  });

  it('reports a trigger added to a table or to authdb_migrations, and a disabled one, with its timing, events and function', async () => {
    const db = await migrated();
    // The install owner's own function (the trust check accepts it): only the contract can see the trigger.
    await db.pool.query(`CREATE SCHEMA elsewhere; CREATE FUNCTION elsewhere.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    await db.pool.query('CREATE TRIGGER audit AFTER INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION elsewhere.noop()');
    await db.pool.query('CREATE TRIGGER audit AFTER INSERT ON authdb_migrations FOR EACH ROW EXECUTE FUNCTION elsewhere.noop()');
    await db.pool.query('ALTER TABLE users DISABLE TRIGGER users_set_updated_at');
    const result = await check(db.url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 added, 0 missing, 1 changed');
    expect(result.stdout).toContain(
      '+ trigger users.audit  (in the database, not in the contract)\n' +
        '    definition: "CREATE TRIGGER audit AFTER INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION elsewhere.noop()"\n' +
        '    enabled: "enabled"',
    );
    expect(result.stdout).toContain('+ trigger authdb_migrations.audit  (in the database, not in the contract)');
    expect(result.stdout).toContain('~ trigger users.users_set_updated_at\n    enabled: "enabled" → "disabled"');
  });

  it('prints the drift as JSON with --json', async () => {
    const db = await migrated();
    await db.pool.query("UPDATE roles SET self_assignable = true WHERE name = 'admin'");
    const result = await check(db.url, '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      equal: false,
      schema: 'public',
      contract: DEFAULT_CONTRACT_FILE,
      summary: { added: 0, missing: 0, changed: 1 },
      drifts: [{ change: 'changed', key: 'row roles (name)=(admin)', fields: [{ field: 'self_assignable', expected: false, actual: true }] }],
    });
  });

  it('treats roles added by an operator as drift unless --ignore-extra-rows', async () => {
    const db = await migrated();
    await db.pool.query("INSERT INTO roles (name) VALUES ('editor')");
    const strict = await check(db.url);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('+ row roles (name)=(editor)');
    expect((await check(db.url, '--ignore-extra-rows')).code).toBe(0);
  });

  it('runs as a role that can only read, and never writes', async () => {
    const db = await migrated();
    await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${READER}, ${AUDITOR}`);
    const reader = as(db, READER, 'reader-pw');
    // The role really cannot write…
    const probe = new pg.Client({ connectionString: reader });
    await probe.connect();
    await expect(probe.query("INSERT INTO roles (name) VALUES ('probe')")).rejects.toThrow(/read-only|permission denied/);
    await probe.end();
    // …and the check succeeds, then detects drift, all as that role.
    const owner = await ownerOf(db);
    expect((await check(reader, '--owner', owner)).code).toBe(0);
    await db.pool.query('ALTER TABLE users ALTER COLUMN phone SET DEFAULT \'+10000000000\'');
    const drift = await check(reader, '--owner', owner);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('~ column users.phone\n    default: null → "\'+10000000000\'::text"');
  });

  it('runs as a role with plain USAGE and SELECT grants, checking a contract that records them', async () => {
    const db = await migrated();
    await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${AUDITOR}`);
    await db.pool.query(`GRANT USAGE ON SCHEMA public TO ${AUDITOR}; GRANT SELECT ON roles TO ${AUDITOR}`);
    const contract = join(tmp.path, 'audited.json');
    expect((await runMain(['schema', 'dump', '--database-url', db.url, '--out', contract])).code).toBe(0);
    const result = await check(as(db, AUDITOR, 'auditor-pw'), '--contract', contract, '--owner', await ownerOf(db));
    expect(result.stderr).toContain('matches the contract');
    expect(result.code).toBe(0);
  });

  it('says how to fix a missing SELECT on the seeded table and a bad contract file', async () => {
    const db = await migrated();
    const nobody = `authdb_check_nobody_${suffix}`;
    await admin.query(`CREATE ROLE ${nobody} LOGIN PASSWORD 'nobody-pw'; GRANT CONNECT ON DATABASE ${db.name} TO ${nobody}`);
    try {
      const denied = await check(as(db, nobody, 'nobody-pw'), '--owner', await ownerOf(db));
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/cannot read the seeded rows of roles: permission denied.*grant SELECT on roles.*\[AUTHDB_SNAPSHOT\]/s);
    } finally {
      await admin.query(`REVOKE CONNECT ON DATABASE ${db.name} FROM ${nobody}; DROP ROLE ${nobody}`);
    }
    const missing = await check(db.url, '--contract', join(tmp.path, 'nope.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the contract .*nope\.json.*authdb schema dump --out .*\[AUTHDB_CONTRACT_FILE\]/s);
  });
});
