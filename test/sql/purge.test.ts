// purge_expired_email_verification_tokens. Own database: purge is global.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { backdate, count, expectSqlState, purge, register, tokensOf, uniqueEmail, userByEmail, verifyAsRegistrant } from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

/** backdate() for the tokens, and the user row's created_at with them. */
async function backdateUser(userId: string, interval: string): Promise<void> {
  await backdate(db.pool, userId, interval);
  await db.pool.query('UPDATE users SET created_at = created_at - $2::interval WHERE id = $1', [userId, interval]);
}

describe('purge_expired_email_verification_tokens', () => {
  it('deletes tokens dead for longer than p_older_than, then the unconfirmed users left without any token', async () => {
    expect(await purge(db.pool)).toBe(0);

    // A: confirmed 8 days ago; its consumed token and the other registration's
    // (revoked by the verification) are purged; the user stays.
    const a = uniqueEmail('a');
    const a1 = await register(db.pool, a);
    const a2 = await register(db.pool, a, { minResendInterval: '0 seconds' });
    await verifyAsRegistrant(db.pool, a2);
    await backdateUser(a1.user_id, '8 days');

    // B: never confirmed (a squatted address); both registrations expired 9
    // days ago -> both tokens purged and the user deleted: the squat ends.
    const b = uniqueEmail('b');
    const b1 = await register(db.pool, b, { passwordHash: 'b-first' });
    await register(db.pool, b, { passwordHash: 'b-second', minResendInterval: '0 seconds' });
    await backdateUser(b1.user_id, '10 days');

    // C: unconfirmed, fresh outstanding token -> kept.
    const c = await register(db.pool, uniqueEmail('c'));

    // D: confirmed 3 days ago -> kept by the default 7 days, purged by 1 day.
    const d = await register(db.pool, uniqueEmail('d'));
    await verifyAsRegistrant(db.pool, d);
    await backdateUser(d.user_id, '3 days');

    // E: unconfirmed; an old registration expired 9 days ago, a fresh one is
    // outstanding -> the old token goes, the user stays.
    const e = uniqueEmail('e');
    const e1 = await register(db.pool, e);
    await backdateUser(e1.user_id, '10 days');
    await register(db.pool, e);

    const total = await count(db.pool, 'email_verification_tokens');
    expect(await purge(db.pool)).toBe(5);
    expect(await count(db.pool, 'email_verification_tokens')).toBe(total - 5);
    expect(await tokensOf(db.pool, a1.user_id)).toEqual([]);
    expect(await userByEmail(db.pool, a)).toBeDefined();
    expect(await userByEmail(db.pool, b)).toBeUndefined();
    expect(await tokensOf(db.pool, c.user_id)).toHaveLength(1);
    expect(await tokensOf(db.pool, d.user_id)).toHaveLength(1);
    expect(await tokensOf(db.pool, e1.user_id)).toHaveLength(1);
    expect(await userByEmail(db.pool, e)).toBeDefined();

    // Purging again finds nothing new.
    expect(await purge(db.pool, '7 days')).toBe(0);
    // A shorter horizon: D's consumed token (D is confirmed, so it stays).
    expect(await purge(db.pool, '1 day')).toBe(1);
    expect(await tokensOf(db.pool, d.user_id)).toEqual([]);
    expect(await count(db.pool, 'users WHERE id = $1', [d.user_id])).toBe(1);
    expect(await tokensOf(db.pool, c.user_id)).toHaveLength(1);

    // B's address is free again: the next registration creates a new user.
    const again = await register(db.pool, b);
    expect(again.outcome).toBe('created');
    expect(again.user_id).not.toBe(b1.user_id);
  });

  it('keeps an unconfirmed user whose registration is locked by a running registration, and deletes it once free', async () => {
    const email = uniqueEmail('locked');
    const reg = await register(db.pool, email);
    await backdateUser(reg.user_id, '10 days');
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [reg.user_id]);
      await purge(db.pool);
      expect(await userByEmail(db.pool, email)).toBeDefined();
      await holder.query('ROLLBACK');
    } finally {
      holder.release();
    }
    await purge(db.pool);
    expect(await userByEmail(db.pool, email)).toBeUndefined();
  });

  it('AU009 unless p_older_than is a positive interval', async () => {
    for (const value of [null, '0', '-1 day']) {
      const error = await expectSqlState(purge(db.pool, value), 'AU009');
      expect(error.message).toMatch(/^p_older_than: /);
    }
  });
});
