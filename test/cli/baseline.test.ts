import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { shippedMigrationNames } from '../support/migration-fixtures.js';

// An install made another way (the shipped files run one by one, as psql -f
// would) is recorded by `migrate baseline` only once a scratch build of the
// migrations equals it; a schema that only shares names is refused by `up`
// before anything runs.

const SHIPPED = fileURLToPath(new URL('../../migrations/', import.meta.url));

let db: TestDatabase;
beforeEach(async () => {
  db = await createEmptyDatabase();
  return () => db.close();
});

/** Runs each shipped up file (up to `count`) as one simple-protocol script, as `psql -f` would (an unpinned search_path is drift: see the last test). */
async function installByHand(count = Infinity): Promise<string[]> {
  const files = (await readdir(SHIPPED)).filter((f) => f.endsWith('.up.sql')).sort().slice(0, count);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // As the engine runs them: functions pin the search_path current at creation.
    await client.query('SET search_path = public, pg_temp');
    for (const file of files) {
      const text = await readFile(join(SHIPPED, file), 'utf8');
      // psql -f runs each statement on its own: a no-transaction file's CONCURRENTLY needs that (its statements end at line ends).
      const statements = text.startsWith('-- authdb:no-transaction') ? text.split(/;\s*\n/).filter((s) => s.replace(/--.*$/gm, '').trim() !== '') : [text];
      for (const statement of statements) await client.query(statement);
    }
  } finally {
    await client.end();
  }
  return files.map((f) => f.replace(/\.up\.sql$/, ''));
}

async function history(): Promise<{ name: string; source: string }[]> {
  const { rows } = await db.pool.query<{ exists: boolean }>("SELECT to_regclass('public.authdb_migrations') IS NOT NULL AS exists");
  if (!rows[0]?.exists) return [];
  return (await db.pool.query<{ name: string; source: string }>('SELECT name, source FROM authdb_migrations ORDER BY name')).rows;
}

describe('migrate baseline', () => {
  it('records an install made by hand once it is proved equal, then status, up and schema check agree', async () => {
    const names = await installByHand();
    const base = ['--database-url', db.url];
    const dry = await runMain(['migrate', 'baseline', '--dry-run', ...base]);
    expect(dry.stderr).toContain('dry run, nothing was recorded');
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual(names.map((n) => `would record ${n}`));
    expect(await history()).toEqual([]);

    const run = await runMain(['migrate', 'baseline', ...base]);
    expect(run.stderr).toContain(`holds exactly what ${names.length} migration(s) create`);
    expect(run.code).toBe(0);
    expect(await history()).toEqual(names.map((name) => ({ name, source: 'authdb' })));

    const status = await runMain(['migrate', 'status', '--exit-code', '--json', ...base]);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { state: string }[]).map((s) => s.state)).toEqual(names.map(() => 'applied'));
    expect((await runMain(['schema', 'check', ...base])).code).toBe(0);
    expect((await runMain(['migrate', 'up', ...base])).stderr).toContain('nothing to apply');

    const again = await runMain(['migrate', 'baseline', ...base]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already records migrations this baseline would record');
    expect(again.stderr).toContain('[AUTHDB_PLAN]');
  });

  it('baselines part of the history with --to, and up applies the rest', async () => {
    const names = await installByHand(2);
    const base = ['--database-url', db.url];
    expect((await runMain(['migrate', 'baseline', '--to', names[1] ?? '', ...base])).code).toBe(0);
    expect((await history()).map((r) => r.name)).toEqual(names);
    const up = await runMain(['migrate', 'up', ...base]);
    expect(up.code).toBe(0);
    expect((await history()).length).toBe(shippedMigrationNames().length);
    expect((await runMain(['schema', 'check', ...base])).code).toBe(0);
  });

  it('lists every difference and records nothing when one column differs', async () => {
    await installByHand();
    await db.pool.query('ALTER TABLE users ALTER COLUMN phone TYPE varchar(32)');
    await db.pool.query('CREATE TABLE legacy_notes (id int)');
    const run = await runMain(['migrate', 'baseline', '--database-url', db.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[AUTHDB_BASELINE_DRIFT]');
    expect(run.stderr).toContain('nothing was recorded');
    expect(run.stderr).toMatch(/~ column users\.phone\n {4}type: "text" → "character varying\(32\)"/);
    expect(run.stderr).toContain('+ table legacy_notes  (in the database, not created by the migrations)');
    expect(run.stderr).toContain('Adopting an existing database');
    expect(await history()).toEqual([]);
    // The scratch database it built the expected schema in is gone (other test files make their own).
    const scratch = /scratch database (authdb_baseline_[0-9a-f]+)/.exec(run.stderr)?.[1];
    expect(scratch).toBeDefined();
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [scratch]);
    expect(rows[0]?.n).toBe(0);
  });
});

describe('migrate up on a schema holding objects of the same names', () => {
  it('refuses before running anything, naming each object and both ways out', async () => {
    // The incident: users and email_verification_tokens made by hand.
    await db.pool.query(`CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text UNIQUE NOT NULL, password_hash text, confirmed_at timestamptz);
      CREATE TABLE email_verification_tokens (id bigserial PRIMARY KEY, user_id uuid REFERENCES users (id), token text NOT NULL);
      CREATE FUNCTION register_user_with_token(p_email text) RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()'`);
    for (const args of [['--dry-run'], []]) {
      const up = await runMain(['migrate', 'up', '--database-url', db.url, ...args]);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain('[AUTHDB_EXISTING_OBJECTS]');
      expect(up.stderr).toContain('nothing was run');
      expect(up.stderr).toMatch(/ {2}table users: created by \d+_users \(source "authdb"\)/);
      expect(up.stderr).toMatch(/ {2}table email_verification_tokens: created by \d+_email_verification_tokens/);
      expect(up.stderr).toMatch(/ {2}function register_user_with_token: created by \d+_registration_functions/);
      expect(up.stderr).toContain('authdb migrate baseline');
      expect(up.stderr).toContain('ALTER TABLE users RENAME TO legacy_users');
      expect(up.stdout).toBe('');
    }
    const { rows } = await db.pool.query<{ roles: boolean; tracking: boolean }>(
      "SELECT to_regclass('public.roles') IS NOT NULL AS roles, to_regclass('public.authdb_migrations') IS NOT NULL AS tracking",
    );
    expect(rows[0]).toEqual({ roles: false, tracking: false });
  });

  it('names the indexes a renamed table keeps: a rename of the tables alone is not enough', async () => {
    await db.pool.query(`CREATE TABLE users (id uuid, email text, CONSTRAINT users_pkey PRIMARY KEY (id), CONSTRAINT users_email_key UNIQUE (email));
      ALTER TABLE users RENAME TO legacy_users`);
    const up = await runMain(['migrate', 'up', '--database-url', db.url]);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/ {2}index users_email_key: created by \d+_users/);
    expect(up.stderr).toMatch(/ {2}index users_pkey: created by \d+_users/);
    expect(up.stderr).not.toContain('table legacy_users');
    expect(await history()).toEqual([]);
  });
});
