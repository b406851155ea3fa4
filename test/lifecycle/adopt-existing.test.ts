import { readFile } from 'node:fs/promises';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, type AuthDb } from '../../src/index.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';

// The path README "Adopting an existing database" documents, replayed on a
// database built as the incident's was (hand-made users and
// email_verification_tokens, with rows), from the very SQL files the README shows.

const RENAME = new URL('../../docs/adopt-existing-rename.sql', import.meta.url);
const IMPORT = new URL('../../docs/adopt-existing-import.sql', import.meta.url);
const README = new URL('../../README.md', import.meta.url);

let db: TestDatabase;
let authDb: AuthDb;
const ids = { ada: '', grace: '', graceTwin: '', bob: '' };

/** Runs a file as `psql -v ON_ERROR_STOP=1 -f FILE` does: one script, stopping at the first error. */
async function runFile(file: URL): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(await readFile(file, 'utf8'));
  } finally {
    await client.end();
  }
}

async function scalar<T>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.pool.query<{ v: T }>(sql, params);
  return rows[0]?.v as T;
}

beforeAll(async () => {
  db = await createEmptyDatabase();
  // The incident's schema, made by hand, with an application table that references it.
  await db.pool.query(`
    CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text NOT NULL UNIQUE, phone text, password_hash text,
                        role text NOT NULL DEFAULT 'user', confirmed_at timestamptz, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz);
    CREATE TABLE email_verification_tokens (id bigserial PRIMARY KEY, user_id uuid NOT NULL REFERENCES users (id), token text NOT NULL,
                        expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE orders (id bigserial PRIMARY KEY, user_id uuid NOT NULL REFERENCES users (id));`);
  const insert = async (email: string, password: string | null, confirmed: boolean): Promise<string> =>
    scalar<string>('INSERT INTO users (email, password_hash, confirmed_at) VALUES ($1, $2, $3) RETURNING id AS v', [
      email,
      password === null ? null : await bcryptHash(password, 4),
      confirmed ? new Date('2026-01-01T00:00:00Z') : null,
    ]);
  ids.ada = await insert('Ada@Example.com', 'ada-password', true);
  ids.grace = await insert('grace@example.com', 'grace-password', true);
  ids.graceTwin = await insert('Grace@Example.COM', 'twin-password', false); // one mailbox, two rows
  ids.bob = await insert('bob@example.com', 'bob-password', false);
  await db.pool.query(`INSERT INTO email_verification_tokens (user_id, token, expires_at) VALUES ($1, 'old-token-b', now() + interval '1 day'), ($2, 'old-token-g', now() + interval '1 day')`, [ids.bob, ids.graceTwin]);
  await db.pool.query('INSERT INTO orders (user_id) VALUES ($1)', [ids.ada]);
  authDb = createAuthDb({ connection: db.url });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
});

describe('adopting an existing database', () => {
  it('the README shows the very files this test runs', async () => {
    const readme = await readFile(README, 'utf8');
    for (const file of [RENAME, IMPORT]) expect(readme).toContain((await readFile(file, 'utf8')).trimEnd());
    expect(readme).toContain('authdb migrate up');
  });

  it('rename, install, import check, copy: the accounts sign in and the unconfirmed verify again', async () => {
    // Without the rename, up refuses and runs nothing.
    const refused = await runMain(['migrate', 'up', '--database-url', db.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[AUTHDB_EXISTING_OBJECTS]');

    await runFile(RENAME);
    const up = await runMain(['migrate', 'up', '--database-url', db.url]);
    expect(up.stderr).toContain('applied 6 migration(s)');
    expect(up.code).toBe(0);

    // The import check lists the twin; nothing is copied, nothing dropped.
    const failed = await runFile(IMPORT).then(() => undefined, (error: unknown) => error as pg.DatabaseError);
    expect(failed?.code).toBe('AU005');
    expect(failed?.detail).toContain('#2 "grace@example.com" and #3 "Grace@Example.COM" have one canonical form, "grace@example.com"');
    expect(await scalar<number>('SELECT count(*)::int AS v FROM users')).toBe(0);
    expect(await scalar<boolean>("SELECT to_regclass('legacy_users') IS NOT NULL AS v")).toBe(true);

    // The operator decides: the unconfirmed twin goes.
    await db.pool.query('DELETE FROM legacy_email_verification_tokens WHERE user_id = $1; ', [ids.graceTwin]);
    await db.pool.query('DELETE FROM legacy_users WHERE id = $1', [ids.graceTwin]);
    await runFile(IMPORT);
    expect(await scalar<boolean>("SELECT to_regclass('legacy_users') IS NULL AND to_regclass('legacy_email_verification_tokens') IS NULL AS v")).toBe(true);
    const { rows } = await db.pool.query<{ id: string; email: string; confirmed: boolean; hasPassword: boolean }>(
      'SELECT id, email, email_confirmed_at IS NOT NULL AS confirmed, password_hash IS NOT NULL AS "hasPassword" FROM users ORDER BY email',
    );
    expect(rows).toEqual([
      { id: ids.ada, email: 'ada@example.com', confirmed: true, hasPassword: true },
      { id: ids.bob, email: 'bob@example.com', confirmed: false, hasPassword: false },
      { id: ids.grace, email: 'grace@example.com', confirmed: true, hasPassword: true },
    ]);
    expect(await scalar<number>('SELECT count(*)::int AS v FROM email_verification_tokens')).toBe(0);
    expect(await scalar<string>('SELECT user_id::text AS v FROM orders')).toBe(ids.ada);
    expect(await scalar<string>("SELECT confrelid::regclass::text AS v FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f'")).toBe('users');

    // Confirmed accounts sign in with their old passwords (bcrypt, as imported), however the address is typed.
    expect(await authDb.verifyPassword({ email: 'ADA@example.com', password: 'ada-password' })).toEqual({ userId: ids.ada, role: 'user' });
    expect(await authDb.verifyPassword({ email: 'grace@example.com', password: 'grace-password' })).toEqual({ userId: ids.grace, role: 'user' });
    expect(await authDb.verifyPassword({ email: 'grace@example.com', password: 'twin-password' })).toBeUndefined();
    // The unconfirmed one cannot sign in until it verifies again through the API, keeping its id.
    expect(await authDb.verifyPassword({ email: 'bob@example.com', password: 'bob-password' })).toBeUndefined();
    const again = await authDb.registerUser({ email: 'bob@example.com', password: 'bob-new-password' });
    expect(again).toMatchObject({ userId: ids.bob, outcome: 'reissued' });
    expect(await authDb.verifyEmail(again.token, { registrationSecret: again.registrationSecret })).toEqual({ userId: ids.bob });
    expect(await authDb.verifyPassword({ email: 'bob@example.com', password: 'bob-new-password' })).toEqual({ userId: ids.bob, role: 'user' });

    // What is left is authdb's install, to its contract.
    const check = await runMain(['schema', 'check', '--database-url', db.url]);
    expect(check.stdout).toContain('+ table orders');
    expect(check.stdout).not.toContain('legacy');
  });
});
