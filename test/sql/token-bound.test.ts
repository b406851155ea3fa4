// Issue 14 §4: nobody without the mailbox can take the owner's link away.
// At the bound of 5 usable tokens per address, registration and resend are
// refused (AU013, naming when the oldest expires) instead of revoking the
// oldest; ended tokens beyond the 5 newest are deleted, so storage stays
// bounded. On the revoke-the-oldest design every test here failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import {
  backdate,
  count,
  errorText,
  expectSqlState,
  preview,
  register,
  resend,
  tokenRow,
  uniqueEmail,
  userById,
  verifyAsRegistrant,
  type Registration,
} from './helpers.js';

/** Usable (unexpired, unused, unrevoked) tokens per address. */
const BOUND = 5;
/** Stored tokens per address: the usable ones and the 5 most recently ended. */
const STORED = 10;

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

function storedTokens(userId: string): Promise<number> {
  return count(db.pool, 'email_verification_tokens WHERE user_id = $1', [userId]);
}

/** The owner's registration is intact: her link is valid, not revoked, and verifies with her secret, setting her password. */
async function expectOwnerKeepsHerLink(owner: Registration): Promise<void> {
  expect(await tokenRow(db.pool, owner.token)).toMatchObject({ revoked_at: null, consumed_at: null, password_hash: 'owner-hash' });
  expect(await preview(db.pool, owner.token, owner.registration_secret)).toMatchObject({ token_state: 'valid', sets_password: true });
  expect(await verifyAsRegistrant(db.pool, owner)).toBe(owner.user_id);
  expect((await userById(db.pool, owner.user_id)).password_hash).toBe('owner-hash');
}

describe("a third party registering and resending the owner's address", () => {
  it("at '0 seconds': 4 more links go out, then every call is AU013 naming the oldest expiry; the owner's link survives", async () => {
    const email = uniqueEmail('bound-now');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    for (let i = 0; i < BOUND - 1; i += 1) {
      expect((await register(db.pool, email, { passwordHash: `attacker-${i}`, minResendInterval: '0 seconds' })).outcome).toBe('reissued');
    }
    for (let i = 0; i < 8; i += 1) {
      const error = await expectSqlState(register(db.pool, email, { passwordHash: `attacker-more-${i}`, minResendInterval: '0 seconds' }), 'AU013');
      expect(error.message).toContain(`has ${BOUND} verification links outstanding`);
      expect(error.message).toContain('the oldest expires at');
      expect(error.hint).toMatch(/^Use one of the links already mailed to the address, or try again after /);
      expect(errorText(error)).not.toContain(owner.token);
      await expectSqlState(resend(db.pool, email, { minResendInterval: '0 seconds' }), 'AU013');
    }
    expect(await storedTokens(owner.user_id)).toBe(BOUND);
    await expectOwnerKeepsHerLink(owner);
  });

  it('at the default throttle, one call a minute apart: the same, whatever the order of registrations and resends', async () => {
    const email = uniqueEmail('bound-throttled');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    const codes: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      // Step over the 60-second throttle without waiting: the tokens look a minute older.
      await backdate(db.pool, owner.user_id, '61 seconds');
      const call = i % 2 === 0 ? register(db.pool, email, { passwordHash: `attacker-${i}` }) : resend(db.pool, email);
      codes.push(await call.then(() => 'ok', (error: unknown) => (error as { code?: string }).code ?? 'no code'));
    }
    expect(codes).toEqual([...Array<string>(BOUND - 1).fill('ok'), ...Array<string>(12 - (BOUND - 1)).fill('AU013')]);
    expect(await storedTokens(owner.user_id)).toBe(BOUND);
    await expectOwnerKeepsHerLink(owner);
  });

  it('AU013 names the expiry of the oldest usable link; once it has expired a new link is issued and nothing is revoked', async () => {
    const email = uniqueEmail('bound-expiry');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    for (let i = 0; i < BOUND - 1; i += 1) await register(db.pool, email, { minResendInterval: '0 seconds' });
    const error = await expectSqlState(register(db.pool, email, { minResendInterval: '0 seconds' }), 'AU013');
    const { rows } = await db.pool.query<{ named: string }>(
      "SELECT expires_at::text AS named FROM email_verification_tokens WHERE token_hash = sha256(convert_to($1::text, 'UTF8'::name))",
      [owner.token],
    );
    expect(error.message).toContain(`the oldest expires at ${rows[0]?.named ?? 'missing'}`);

    // 25 hours later every link has expired: a registration goes out again; expired ones are not revoked.
    await backdate(db.pool, owner.user_id, '25 hours');
    const later = await register(db.pool, email, { passwordHash: 'later', minResendInterval: '0 seconds' });
    expect(later.outcome).toBe('reissued');
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1 AND revoked_at IS NOT NULL', [owner.user_id])).toBe(0);
  });

  it(`stored tokens per address stay at most ${STORED} however often links expire or a secret's resend replaces them`, async () => {
    const email = uniqueEmail('bound-storage');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    let max = 0;
    for (let i = 0; i < 30; i += 1) {
      if (i % 3 === 0) await backdate(db.pool, owner.user_id, '25 hours');
      // A resend with the registration's own secret replaces its link (revokes its earlier ones).
      await resend(db.pool, email, { minResendInterval: '0 seconds', registrationSecret: owner.registration_secret });
      await register(db.pool, email, { minResendInterval: '0 seconds' }).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'AU013') throw error;
      });
      max = Math.max(max, await storedTokens(owner.user_id));
    }
    expect(max).toBeLessThanOrEqual(STORED);
    expect(max).toBeGreaterThan(BOUND);
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1 AND revoked_at IS NULL AND consumed_at IS NULL AND expires_at > now()', [owner.user_id])).toBeLessThanOrEqual(BOUND);
  });

  it("a resend with the owner's own secret at the bound replaces her link (only the secret's holder can)", async () => {
    const email = uniqueEmail('bound-own-resend');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    for (let i = 0; i < BOUND - 1; i += 1) await register(db.pool, email, { minResendInterval: '0 seconds' });
    const fresh = await resend(db.pool, email, { minResendInterval: '0 seconds', registrationSecret: owner.registration_secret });
    expect(await tokenRow(db.pool, fresh.token)).toMatchObject({ password_hash: 'owner-hash', revoked_at: null });
    expect((await tokenRow(db.pool, owner.token)).revoked_at).toBeInstanceOf(Date);
    // Without it, at the bound: AU013, and still nothing revoked.
    await expectSqlState(resend(db.pool, email, { minResendInterval: '0 seconds' }), 'AU013');
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1 AND revoked_at IS NOT NULL', [owner.user_id])).toBe(1);
  });
});
