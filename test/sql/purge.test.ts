// purge_expired_email_verification_tokens. Own database: purge is global.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { backdate, count, expectSqlState, purge, register, resend, tokenRow, tokensOf, uniqueEmail, verify } from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

describe('purge_expired_email_verification_tokens', () => {
  it('deletes tokens dead for longer than p_older_than, keeping the latest token of unconfirmed users', async () => {
    expect(await purge(db.pool)).toBe(0);

    // A: confirmed 8 days ago; one revoked and one consumed token -> both purged.
    const a = uniqueEmail('a');
    const a1 = await register(db.pool, a);
    await backdate(db.pool, a1.user_id, '2 minutes');
    const a2 = await register(db.pool, a);
    await verify(db.pool, a2.token);
    await backdate(db.pool, a1.user_id, '8 days');

    // B: unconfirmed; its first token was revoked and its second expired 9 days
    // ago -> the revoked one is purged, the latest one is kept (it holds the
    // pending registration details).
    const b = uniqueEmail('b');
    const b1 = await register(db.pool, b, { passwordHash: 'b-first' });
    await backdate(db.pool, b1.user_id, '2 minutes');
    const b2 = await register(db.pool, b, { passwordHash: 'b-second' });
    await backdate(db.pool, b1.user_id, '10 days');

    // C: unconfirmed, fresh outstanding token -> kept.
    const c = await register(db.pool, uniqueEmail('c'));

    // D: confirmed 3 days ago -> kept by the default 7 days, purged by 1 day.
    const d = await register(db.pool, uniqueEmail('d'));
    await verify(db.pool, d.token);
    await backdate(db.pool, d.user_id, '3 days');

    // E: revoked 2 days ago but its replacement is fresh -> kept by 7 days, purged by 1 day.
    const e = uniqueEmail('e');
    const e1 = await register(db.pool, e);
    await backdate(db.pool, e1.user_id, '2 days');
    await register(db.pool, e);

    const total = await count(db.pool, 'email_verification_tokens');
    expect(await purge(db.pool)).toBe(3);
    expect(await count(db.pool, 'email_verification_tokens')).toBe(total - 3);
    expect(await tokensOf(db.pool, a1.user_id)).toEqual([]);
    expect((await tokensOf(db.pool, b1.user_id)).map((t) => t.id)).toEqual([(await tokenRow(db.pool, b2.token)).id]);
    expect(await tokensOf(db.pool, c.user_id)).toHaveLength(1);
    expect(await tokensOf(db.pool, d.user_id)).toHaveLength(1);
    expect(await tokensOf(db.pool, e1.user_id)).toHaveLength(2);

    // Purging again finds nothing new.
    expect(await purge(db.pool, '7 days')).toBe(0);
    // A shorter horizon: D's consumed token and E's revoked token.
    expect(await purge(db.pool, '1 day')).toBe(2);
    expect(await tokensOf(db.pool, d.user_id)).toEqual([]);
    expect(await tokensOf(db.pool, e1.user_id)).toHaveLength(1);
    expect(await tokensOf(db.pool, c.user_id)).toHaveLength(1);

    // B's pending details survived the purge: a resend carries them forward.
    const issued = await resend(db.pool, b);
    expect((await tokenRow(db.pool, issued.token)).password_hash).toBe('b-second');
    // The kept token (expired 9 days ago) is now superseded, so the next purge deletes it.
    expect(await purge(db.pool)).toBe(1);
  });

  it('AU009 unless p_older_than is a positive interval', async () => {
    for (const value of [null, '0', '-1 day']) {
      const error = await expectSqlState(purge(db.pool, value), 'AU009');
      expect(error.message).toMatch(/^p_older_than: /);
    }
  });
});
