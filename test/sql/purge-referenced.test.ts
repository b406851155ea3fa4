// purge_expired_email_verification_tokens on a database the application
// uses: tables of its own referencing users, many rows, concurrent purges.
// Own database: purge is global.
import pg from 'pg';
import type { NoticeMessage } from 'pg-protocol/dist/messages.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles } from '../support/roles.js';
import { backdate, count, register, uniqueEmail, userByEmail } from './helpers.js';

let db: TestDatabase;
const roles = new TestRoles();

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await roles.dropAll([db.url]);
  await db.close();
});

/** An abandoned registration: an unconfirmed user whose only token expired 10 days ago. */
async function abandoned(label: string): Promise<{ email: string; userId: string }> {
  const email = uniqueEmail(label);
  const reg = await register(db.pool, email);
  await backdate(db.pool, reg.user_id, '10 days');
  await db.pool.query(`UPDATE users SET created_at = created_at - '10 days'::interval WHERE id = $1`, [reg.user_id]);
  return { email, userId: reg.user_id };
}

interface Purged {
  readonly deleted: number;
  readonly notices: readonly NoticeMessage[];
}

/** One purge on `client`, with the notices it raised. */
async function purgeOn(client: pg.ClientBase): Promise<Purged> {
  const notices: NoticeMessage[] = [];
  const listener = (notice: NoticeMessage): void => {
    notices.push(notice);
  };
  client.on('notice', listener);
  try {
    const { rows } = await client.query<{ n: string }>('SELECT purge_expired_email_verification_tokens() AS n');
    return { deleted: Number(rows[0]?.n), notices };
  } finally {
    client.off('notice', listener);
  }
}

/** One purge on a connection of its own. */
async function purgeWithNotices(): Promise<Purged> {
  const client = await db.pool.connect();
  try {
    return await purgeOn(client);
  } finally {
    client.release();
  }
}

describe('purge_expired_email_verification_tokens under real use', () => {
  it('keeps the users an application table references without ON DELETE CASCADE, purges everything else, and says so', async () => {
    await db.pool.query(`CREATE TABLE profiles (user_id uuid PRIMARY KEY REFERENCES users (id), bio text);
                         CREATE TABLE settings (owner uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT)`);
    const kept = await abandoned('profiled');
    await db.pool.query('INSERT INTO profiles (user_id) VALUES ($1)', [kept.userId]);
    await db.pool.query('INSERT INTO settings (owner) VALUES ($1)', [kept.userId]);
    const gone = await abandoned('plain');

    const purged = await purgeWithNotices();
    expect(purged.deleted).toBe(2);
    expect(await userByEmail(db.pool, gone.email)).toBeUndefined();
    expect(await userByEmail(db.pool, kept.email)).toBeDefined();
    expect(purged.notices).toHaveLength(1);
    const [notice] = purged.notices;
    expect(notice?.message).toBe('purge kept 1 unconfirmed user(s) that other rows still reference (deleted 2 token(s), 1 user(s))');
    expect(notice?.detail).toBe('Referenced through: profiles (profiles_user_id_fkey), settings (settings_owner_fkey)');
    expect(notice?.hint).toMatch(/ON DELETE CASCADE/);

    // Once the application's row is gone, the next purge deletes the user.
    await db.pool.query('DELETE FROM profiles WHERE user_id = $1', [kept.userId]);
    await db.pool.query('DELETE FROM settings WHERE owner = $1', [kept.userId]);
    expect((await purgeWithNotices()).notices).toEqual([]);
    expect(await userByEmail(db.pool, kept.email)).toBeUndefined();
    await db.pool.query('DROP TABLE profiles, settings');
  });

  it('keeps a user whose cascade fails further on (a key the catalog check does not cover), one user at a time', async () => {
    await db.pool.query(`CREATE TABLE accounts (user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE);
                         CREATE TABLE "Posts" (id int PRIMARY KEY, "Author" uuid NOT NULL REFERENCES accounts (user_id))`);
    const blocked = await abandoned('posted');
    const cascaded = await abandoned('account-only');
    const gone = await abandoned('plain2');
    await db.pool.query('INSERT INTO accounts (user_id) VALUES ($1), ($2)', [blocked.userId, cascaded.userId]);
    await db.pool.query('INSERT INTO "Posts" (id, "Author") VALUES (1, $1)', [blocked.userId]);

    const purged = await purgeWithNotices();
    expect(purged.deleted).toBe(3);
    expect(await userByEmail(db.pool, blocked.email)).toBeDefined();
    expect(await userByEmail(db.pool, cascaded.email)).toBeUndefined();
    expect(await userByEmail(db.pool, gone.email)).toBeUndefined();
    expect(await count(db.pool, 'accounts')).toBe(1);
    expect(purged.notices.map((n) => [n.message, n.detail])).toEqual([
      ['purge kept 1 unconfirmed user(s) that other rows still reference (deleted 3 token(s), 2 user(s))', 'Referenced through: public."Posts" ("Posts_Author_fkey")'],
    ]);
    await db.pool.query('DROP TABLE "Posts", accounts');
    await db.pool.query('DELETE FROM users WHERE id = $1', [blocked.userId]);
  });

  // An application role that may reference users(id) declares its key on a type of its own with an IMPLICIT cast to uuid:
  // comparing its column with users.id in the catalog check would run that cast — the role's code — as the function's owner.
  it("never runs another role's cast as the function's owner: a key on a column of another type is left to the delete's own check", async () => {
    const mallory = await roles.create('purge_mallory');
    const m = mallory.name;
    await db.pool.query(`CREATE SCHEMA ${m} AUTHORIZATION ${m}; GRANT REFERENCES (id) ON users TO ${m}; CREATE TABLE ${m}_calls (who text)`);
    await db.pool.query(`GRANT INSERT ON ${m}_calls TO ${m}`);
    const asMallory = new pg.Client({ connectionString: mallory.urlFor(db.url) });
    await asMallory.connect();
    let keptId: string | undefined;
    try {
      await asMallory.query(`
        CREATE TYPE ${m}.ref AS (id uuid);
        CREATE FUNCTION ${m}.ref_to_uuid(${m}.ref) RETURNS uuid LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO public.${m}_calls VALUES (current_user); RETURN ($1).id; END $$;
        CREATE CAST (${m}.ref AS uuid) WITH FUNCTION ${m}.ref_to_uuid(${m}.ref) AS IMPLICIT;
        CREATE TABLE ${m}.profiles (ref ${m}.ref REFERENCES public.users (id));
        GRANT USAGE ON SCHEMA ${m} TO PUBLIC;
        GRANT SELECT ON ${m}.profiles TO PUBLIC`);
      const kept = await abandoned('cast-kept');
      keptId = kept.userId;
      await asMallory.query(`INSERT INTO ${m}.profiles VALUES (ROW($1)::${m}.ref)`, [kept.userId]);
      await abandoned('cast-free');
      await db.pool.query(`TRUNCATE ${m}_calls`);

      const purged = await purgeWithNotices();
      expect(purged.deleted).toBe(2);
      expect(await userByEmail(db.pool, kept.email)).toBeDefined();
      expect(purged.notices.map((n) => n.message)).toEqual(['purge kept 1 unconfirmed user(s) that other rows still reference (deleted 2 token(s), 1 user(s))']);
      // The cast ran only inside the referential check, as the table's owner.
      const { rows } = await db.pool.query<{ who: string }>(`SELECT DISTINCT who FROM ${m}_calls`);
      expect(rows.map((r) => r.who)).not.toContain((await db.pool.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u);
    } finally {
      await asMallory.query(`DROP TABLE ${m}.profiles`).catch(() => undefined);
      await asMallory.end();
      if (keptId !== undefined) await db.pool.query('DELETE FROM users WHERE id = $1', [keptId]);
    }
  });

  it('walks thousands of rows in batches: every abandoned user and ended token goes, the referenced ones are counted', async () => {
    await db.pool.query('CREATE TABLE profiles (user_id uuid PRIMARY KEY REFERENCES users (id))');
    // 2,500 abandoned registrations made in SQL (the function's batches are 1,000 rows).
    await db.pool.query(`
      WITH u AS (
        INSERT INTO users (email, role, created_at)
        SELECT 'bulk' || g || '@example.com', 'user', now() - '20 days'::interval FROM generate_series(1, 2500) AS g
        RETURNING id, created_at)
      INSERT INTO email_verification_tokens (user_id, token_hash, role, created_at, expires_at)
      SELECT id, sha256(convert_to(id::text, 'UTF8')), 'user', created_at, created_at + '1 day'::interval FROM u`);
    await db.pool.query(`INSERT INTO profiles SELECT id FROM users WHERE email LIKE 'bulk%' ORDER BY email LIMIT 1200`);

    const purged = await purgeWithNotices();
    expect(purged.deleted).toBe(2500);
    expect(await count(db.pool, `users WHERE email LIKE 'bulk%'`)).toBe(1200);
    expect(purged.notices.map((n) => n.message)).toEqual(['purge kept 1200 unconfirmed user(s) that other rows still reference (deleted 2500 token(s), 1300 user(s))']);
    await db.pool.query(`DROP TABLE profiles; DELETE FROM users WHERE email LIKE 'bulk%'`);
  });

  it('a purge that finds another running returns 0 at once and says so; it never waits behind it', async () => {
    await abandoned('concurrent');
    const first = await db.pool.connect();
    try {
      await first.query('BEGIN');
      expect((await purgeOn(first)).deleted).toBe(1);
      // The first purge's transaction is still open: the second does nothing.
      const second = await purgeWithNotices();
      expect(second.deleted).toBe(0);
      expect(second.notices.map((n) => n.message)).toEqual(['another purge of schema public is running; this one did nothing']);
      await first.query('COMMIT');
    } finally {
      first.release();
    }
    expect((await purgeWithNotices()).notices).toEqual([]);
  });
});
