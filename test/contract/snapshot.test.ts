import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractError } from '../../src/contract/errors.js';
import { serializeSnapshot, takeSnapshot, type Snapshot } from '../../src/contract/snapshot.js';
import { createEmptyDatabase, createMigratedDatabase, databaseUrl, migrateDatabase, type TestDatabase } from '../support/database.js';

// A snapshot describes a schema, not the history of how it was built: the
// same objects give the same bytes whatever the creation order, OIDs, schema
// name or migrating role.

const suffix = randomBytes(4).toString('hex');
const GRANTEE = `authdb_snap_app_${suffix}`;
const OWNER = `authdb_snap_owner_${suffix}`;

/** The same objects, as independent steps that can run in either order. */
const STEPS: Readonly<Record<string, string>> = {
  enum: `CREATE TYPE mood AS ENUM ('calm', 'busy'); COMMENT ON TYPE mood IS 'how it feels'`,
  domain: `CREATE DOMAIN short_text AS text CHECK (char_length(VALUE) <= 10)`,
  sequence: `CREATE SEQUENCE ticket_seq START 100 INCREMENT 5`,
  roles: `CREATE TABLE roles (name text PRIMARY KEY, self_assignable boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  function: `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$ BEGIN RETURN NEW; END $$;
             REVOKE EXECUTE ON FUNCTION touch() FROM PUBLIC; GRANT EXECUTE ON FUNCTION touch() TO ${GRANTEE}`,
  helper: `CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$`,
};

/** Steps that depend on the ones above. */
const THINGS = `
  CREATE TABLE things (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label short_text NOT NULL,
    state mood NOT NULL DEFAULT 'calm',
    ticket int NOT NULL DEFAULT nextval('ticket_seq'),
    role text REFERENCES roles (name) ON DELETE RESTRICT,
    doubled int GENERATED ALWAYS AS (twice(ticket)) STORED,
    CONSTRAINT things_label_check CHECK (label <> '')
  );
  CREATE INDEX things_role_idx ON things (role) WHERE role IS NOT NULL;
  CREATE TRIGGER things_touch BEFORE UPDATE ON things FOR EACH ROW EXECUTE FUNCTION touch();
  ALTER TABLE things ENABLE ROW LEVEL SECURITY;
  CREATE POLICY things_mine ON things FOR SELECT TO ${GRANTEE} USING (role = current_user);
  GRANT SELECT, INSERT ON things TO ${GRANTEE};
  GRANT UPDATE (label) ON things TO ${GRANTEE};
  COMMENT ON TABLE things IS 'things';
  COMMENT ON COLUMN things.label IS 'a label';
  CREATE VIEW calm_things AS SELECT id, label FROM things WHERE state = 'calm';
`;

const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
const databases: TestDatabase[] = [];

beforeAll(async () => {
  await admin.connect();
  await admin.query(`CREATE ROLE ${GRANTEE}`);
  await admin.query(`CREATE ROLE ${OWNER} LOGIN PASSWORD 'owner-pw'`);
});

afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
  await admin.query(`DROP ROLE IF EXISTS ${GRANTEE}`);
  await admin.query(`DROP ROLE IF EXISTS ${OWNER}`);
  await admin.end();
});

async function track(db: Promise<TestDatabase>): Promise<TestDatabase> {
  const ready = await db;
  databases.push(ready);
  return ready;
}

async function snapshotOf(url: string, schema = 'public'): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await takeSnapshot(client, { schema });
  } finally {
    await client.end();
  }
}

describe('takeSnapshot', () => {
  it('gives byte-identical output for the same objects created in different orders', async () => {
    const [first, second] = await Promise.all([track(createEmptyDatabase()), track(createEmptyDatabase())]);
    const names = Object.keys(STEPS);
    for (const name of names) await first.pool.query(STEPS[name] ?? '');
    await first.pool.query(THINGS);
    await first.pool.query(`INSERT INTO roles (name, self_assignable) VALUES ('admin', false), ('user', true)`);

    // Reverse order, a dropped column (a gap in attnum), rows inserted the other way round.
    for (const name of [...names].reverse()) await second.pool.query(STEPS[name] ?? '');
    await second.pool.query('ALTER TABLE roles ADD COLUMN scratch int; ALTER TABLE roles DROP COLUMN scratch');
    await second.pool.query(THINGS);
    await second.pool.query(`INSERT INTO roles (name, self_assignable) VALUES ('user', true)`);
    await second.pool.query(`INSERT INTO roles (name, self_assignable) VALUES ('admin', false)`);

    const a = serializeSnapshot(await snapshotOf(first.url));
    const b = serializeSnapshot(await snapshotOf(second.url));
    expect(b).toBe(a);
    // …and the dump really describes those objects:
    const objects = (JSON.parse(a) as Snapshot).objects;
    expect(Object.keys(objects)).toEqual(
      expect.arrayContaining([
        'type mood',
        'type short_text',
        'sequence ticket_seq',
        'constraint short_text.short_text_check',
        'column things.doubled',
        'index things_role_idx',
        'trigger things.things_touch',
        'policy things.things_mine',
        'view calm_things',
        'function touch()',
        'row roles (name)=(user)',
      ]),
    );
    expect(objects['table things']).toMatchObject({ rowSecurity: true, grants: { [GRANTEE]: ['INSERT', 'SELECT'] } });
    expect(objects['column things.label']).toMatchObject({ type: 'short_text', comment: 'a label', grants: { [GRANTEE]: ['UPDATE'] } });
    expect(objects['constraint things.things_role_fkey']).toMatchObject({ definition: 'FOREIGN KEY (role) REFERENCES roles(name) ON DELETE RESTRICT' });
    expect(objects['function touch()']).toMatchObject({ securityDefiner: true, settings: { search_path: '<schema>, pg_temp' }, grants: { '<owner>': ['ALL'], [GRANTEE]: ['EXECUTE'] } });
    expect(objects['function twice(integer)']).toMatchObject({ grants: { PUBLIC: ['EXECUTE'] } });
    // Seed rows leave out when they were inserted.
    expect(objects['row roles (name)=(user)']).toEqual({ name: 'user', self_assignable: true });
  });

  it("records the owner's default privileges as ALL (the same on every server version), but lists them once one is revoked", async () => {
    const db = await track(createEmptyDatabase());
    await db.pool.query('CREATE TABLE t (id int)');
    const before = (await snapshotOf(db.url)).objects['table t'];
    expect(before).toMatchObject({ grants: { '<owner>': ['ALL'] } });

    await db.pool.query('REVOKE TRUNCATE ON t FROM CURRENT_USER');
    const after = (await snapshotOf(db.url)).objects['table t'] as { grants: Record<string, string[]> };
    expect(after.grants['<owner>']).not.toContain('ALL');
    expect(after.grants['<owner>']).not.toContain('TRUNCATE');
    expect(after.grants['<owner>']).toEqual(expect.arrayContaining(['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'UPDATE']));
  });

  it('is schema-neutral and leaves out authdb_migrations and the objects of pgcrypto installed in the schema', async () => {
    // pgcrypto installed in the target schema before authdb: its functions must not show up.
    const [inPublic, inAuth] = await Promise.all([installWithPgcryptoIn('public'), installWithPgcryptoIn('auth')]);

    const publicDump = serializeSnapshot(await snapshotOf(inPublic.url));
    const authDump = serializeSnapshot(await snapshotOf(inAuth.url, 'auth'));
    expect(authDump).toBe(publicDump);
    expect(authDump).not.toMatch(/\bauth\./);
    expect(authDump).not.toContain('authdb_migrations');
    expect(authDump).not.toContain('gen_random_bytes(integer)');
    expect(authDump).toContain('"search_path": "<schema>, pg_temp"');
  });

  it('writes the role that ran the migrations as <owner>, whoever it was', async () => {
    const bySuperuser = await track(createMigratedDatabase());
    const byOwner = await track(createEmptyDatabase());
    await admin.query(`ALTER DATABASE ${byOwner.name} OWNER TO ${OWNER}`);
    // PostgreSQL 14's `public` belongs to the bootstrap superuser: the owner needs CREATE in it.
    await byOwner.pool.query(`GRANT CREATE ON SCHEMA public TO ${OWNER}`);
    const url = new URL(byOwner.url);
    url.username = OWNER;
    url.password = 'owner-pw';
    await migrateDatabase(url.toString());
    const expected = serializeSnapshot(await snapshotOf(bySuperuser.url));
    expect(serializeSnapshot(await snapshotOf(byOwner.url))).toBe(expected);
    expect(expected).toContain('"<owner>": [');
    expect(expected).not.toContain(OWNER);
  });

  it('fails with AUTHDB_SCHEMA_NOT_FOUND for a schema that does not exist', async () => {
    const db = await track(createEmptyDatabase());
    const error = await snapshotOf(db.url, 'nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractError);
    expect(error).toMatchObject({ code: 'AUTHDB_SCHEMA_NOT_FOUND', message: expect.stringContaining('schema "nope" does not exist') as string });
  });
});

/** A fresh database where pgcrypto already lives in `schema` when authdb is migrated into it. */
async function installWithPgcryptoIn(schema: string): Promise<TestDatabase> {
  const db = await track(createEmptyDatabase());
  await db.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}; CREATE EXTENSION pgcrypto SCHEMA ${schema}`);
  await migrateDatabase(db.url, { schema });
  return db;
}
