// verify_email and resend_email_verification.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import {
  backdate,
  errorText,
  expectSqlState,
  register,
  resend,
  tokenRow,
  tokensOf,
  uniqueEmail,
  uniquePhone,
  userById,
  verify,
  verifyAsRegistrant,
} from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
  await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('member', true)");
});

afterAll(async () => {
  await db.close();
});

describe('verify_email', () => {
  it('consumes the token, confirms the e-mail and returns the user id', async () => {
    const phone = uniquePhone();
    const reg = await register(db.pool, uniqueEmail('verify'), { passwordHash: 'hash-v', phone, role: 'member' });
    const before = await userById(db.pool, reg.user_id);

    expect(await verifyAsRegistrant(db.pool, reg)).toBe(reg.user_id);

    const user = await userById(db.pool, reg.user_id);
    expect(user).toMatchObject({ password_hash: 'hash-v', phone, role: 'member', phone_confirmed_at: null });
    expect(user.email_confirmed_at).toBeInstanceOf(Date);
    // updated_at is maintained by the trigger.
    expect(user.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    const token = await tokenRow(db.pool, reg.token);
    expect(token.consumed_at).toBeInstanceOf(Date);
    expect(token.revoked_at).toBeNull();
  });

  it('AU012 when the token is used a second time; nothing changes', async () => {
    const reg = await register(db.pool, uniqueEmail('twice'));
    await verify(db.pool, reg.token);
    const user = await userById(db.pool, reg.user_id);
    const error = await expectSqlState(verify(db.pool, reg.token), 'AU012');
    expect(error.message).toBe('p_token: email verification token has already been used');
    expect(errorText(error)).not.toContain(reg.token);
    expect(await userById(db.pool, reg.user_id)).toEqual(user);
  });

  it('AU012 for the other tokens of a user once one of them is verified', async () => {
    const email = uniqueEmail('revoked');
    const first = await register(db.pool, email, { minResendInterval: '0 seconds' });
    const second = await register(db.pool, email, { minResendInterval: '0 seconds' });
    const third = await resend(db.pool, email, { minResendInterval: '0 seconds' });
    expect(await verify(db.pool, second.token)).toBe(first.user_id);

    for (const token of [first.token, third.token]) {
      const error = await expectSqlState(verify(db.pool, token), 'AU012');
      expect(error.message).toBe('p_token: email verification token has been revoked');
    }
    const states = (await tokensOf(db.pool, first.user_id)).map((t) => (t.consumed_at ? 'consumed' : t.revoked_at ? 'revoked' : 'outstanding'));
    expect(states).toEqual(['revoked', 'consumed', 'revoked']);
  });

  it('AU011 for an expired token; the token stays usable for nothing and nothing is written', async () => {
    const reg = await register(db.pool, uniqueEmail('expired'));
    await backdate(db.pool, reg.user_id, '25 hours');
    const tokensBefore = await tokensOf(db.pool, reg.user_id);
    const error = await expectSqlState(verify(db.pool, reg.token), 'AU011');
    expect(error.message).toBe('p_token: email verification token has expired');
    expect(error.detail).toMatch(/^It expired at /);
    expect(await tokensOf(db.pool, reg.user_id)).toEqual(tokensBefore);
    expect((await userById(db.pool, reg.user_id)).email_confirmed_at).toBeNull();
  });

  it('a token expires exactly at expires_at', async () => {
    const reg = await register(db.pool, uniqueEmail('ttl'), { tokenTtl: '1 millisecond' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expectSqlState(verify(db.pool, reg.token), 'AU011');
  });

  it.each([
    ['a random token', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['an empty string', ''],
    ['garbage', 'not a token \u0000'.replace('\u0000', '')],
  ])('AU010 for %s', async (_label, token) => {
    const error = await expectSqlState(verify(db.pool, token), 'AU010');
    expect(error.message).toBe('p_token: unknown email verification token');
  });

  it('AU010 for a real token with a changed character or surrounding blanks (tokens are exact)', async () => {
    const reg = await register(db.pool, uniqueEmail('exact'));
    const last = reg.token.slice(-1);
    await expectSqlState(verify(db.pool, `${reg.token.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`), 'AU010');
    await expectSqlState(verify(db.pool, ` ${reg.token}`), 'AU010');
    expect(await verify(db.pool, reg.token)).toBe(reg.user_id);
  });

  it('AU009 for a NULL token', async () => {
    const error = await expectSqlState(verify(db.pool, null), 'AU009');
    expect(error.message).toBe('p_token: must not be NULL');
  });

  it("applies the registration's passwordless, phoneless request exactly, with its secret", async () => {
    const email = uniqueEmail('clear');
    await register(db.pool, email, { passwordHash: 'old-hash', phone: uniquePhone(), role: 'member' });
    const second = await register(db.pool, email, { minResendInterval: '0 seconds' });
    await verifyAsRegistrant(db.pool, second);
    expect(await userById(db.pool, second.user_id)).toMatchObject({ password_hash: null, phone: null, role: 'user' });
  });

  it("applies the token's phone even if another user confirmed it meanwhile, without confirming it", async () => {
    const phone = uniquePhone();
    const pending = await register(db.pool, uniqueEmail('pending'), { phone });
    const owner = await register(db.pool, uniqueEmail('owner'), { phone });
    await verifyAsRegistrant(db.pool, owner);
    await db.pool.query('UPDATE users SET phone_confirmed_at = now() WHERE id = $1', [owner.user_id]);

    expect(await verifyAsRegistrant(db.pool, pending)).toBe(pending.user_id);
    const user = await userById(db.pool, pending.user_id);
    expect(user).toMatchObject({ phone, phone_confirmed_at: null });
    expect(user.email_confirmed_at).toBeInstanceOf(Date);
    expect((await userById(db.pool, owner.user_id)).phone_confirmed_at).toBeInstanceOf(Date);
  });

  it('leaves no outstanding token behind', async () => {
    const email = uniqueEmail('outstanding');
    const reg = await register(db.pool, email);
    await verify(db.pool, reg.token);
    const outstanding = (await tokensOf(db.pool, reg.user_id)).filter((t) => t.consumed_at === null && t.revoked_at === null);
    expect(outstanding).toEqual([]);
    await expectSqlState(register(db.pool, email), 'AU001');
  });
});

describe('resend_email_verification', () => {
  it("with a registration's secret: a new token for that registration, which supersedes only that registration's token", async () => {
    const email = uniqueEmail('resend');
    const phone = uniquePhone();
    const first = await register(db.pool, email, { passwordHash: 'first-hash' });
    const second = await register(db.pool, email, { passwordHash: 'second-hash', phone, role: 'member', minResendInterval: '0 seconds' });
    await backdate(db.pool, first.user_id, '2 minutes');

    const issued = await resend(db.pool, ` ${email.toUpperCase()} `, { tokenTtl: '2 hours', registrationSecret: second.registration_secret });
    expect(issued.user_id).toBe(first.user_id);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const row = await tokenRow(db.pool, issued.token);
    expect(row).toMatchObject({ password_hash: 'second-hash', phone, role: 'member', revoked_at: null, consumed_at: null, has_secret: true });
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(2 * 3600 * 1000);
    expect(row.expires_at).toEqual(issued.expires_at);
    // The first registration's token is untouched; the second's is superseded.
    expect((await tokenRow(db.pool, first.token)).revoked_at).toBeNull();
    expect((await tokenRow(db.pool, second.token)).revoked_at).toBeInstanceOf(Date);

    // The user row holds nothing until verification; the secret still belongs to the registration.
    expect(await userById(db.pool, first.user_id)).toMatchObject({ password_hash: null, phone: null });
    await verify(db.pool, issued.token, { registrationSecret: second.registration_secret });
    expect(await userById(db.pool, first.user_id)).toMatchObject({ password_hash: 'second-hash', phone, role: 'member' });
  });

  it('without a secret (or with one that matches no registration): a token that carries no credentials', async () => {
    const email = uniqueEmail('no-secret');
    const reg = await register(db.pool, email, { passwordHash: 'reg-hash', phone: uniquePhone() });
    const plain = await resend(db.pool, email, { minResendInterval: '0 seconds' });
    const wrong = await resend(db.pool, email, { minResendInterval: '0 seconds', registrationSecret: 'not-the-secret' });
    for (const issued of [plain, wrong]) {
      expect(await tokenRow(db.pool, issued.token)).toMatchObject({ password_hash: null, phone: null, role: 'user', has_secret: false, revoked_at: null });
    }
    // Neither revoked the registration's own token.
    expect((await tokenRow(db.pool, reg.token)).revoked_at).toBeNull();
    // Even the registration's secret gets no credentials out of such a token.
    await verify(db.pool, plain.token, { registrationSecret: reg.registration_secret });
    expect(await userById(db.pool, reg.user_id)).toMatchObject({ password_hash: null, phone: null });
    expect((await userById(db.pool, reg.user_id)).email_confirmed_at).toBeInstanceOf(Date);
  });

  it('a secret whose registration tokens were all deleted issues a token that carries no credentials', async () => {
    const email = uniqueEmail('no-token');
    const reg = await register(db.pool, email, { passwordHash: 'row-hash', phone: uniquePhone() });
    await db.pool.query('DELETE FROM email_verification_tokens WHERE user_id = $1', [reg.user_id]);
    const issued = await resend(db.pool, email, { registrationSecret: reg.registration_secret });
    expect(await tokenRow(db.pool, issued.token)).toMatchObject({ password_hash: null, phone: null, role: 'user', has_secret: false });
  });

  it('AU007 for an address nobody registered', async () => {
    const email = uniqueEmail('nobody');
    const error = await expectSqlState(resend(db.pool, email), 'AU007');
    expect(error.message).toBe(`p_email: no user is registered with email "${email}"`);
  });

  it('AU001 for a confirmed address', async () => {
    const email = uniqueEmail('resend-confirmed');
    const reg = await register(db.pool, email);
    await verify(db.pool, reg.token);
    await backdate(db.pool, reg.user_id, '1 hour');
    await expectSqlState(resend(db.pool, email), 'AU001');
  });

  it('AU008 when the last token is too recent; nothing is written', async () => {
    const email = uniqueEmail('resend-throttle');
    const reg = await register(db.pool, email);
    const before = await tokensOf(db.pool, reg.user_id);
    await expectSqlState(resend(db.pool, email), 'AU008');
    await backdate(db.pool, reg.user_id, '2 minutes');
    await expectSqlState(resend(db.pool, email, { minResendInterval: '3 minutes' }), 'AU008');
    expect((await tokensOf(db.pool, reg.user_id)).length).toBe(before.length);
    await resend(db.pool, email, { minResendInterval: '1 minute' });
    expect((await tokensOf(db.pool, reg.user_id)).length).toBe(before.length + 1);
  });

  it('AU005 / AU009 for invalid arguments', async () => {
    await expectSqlState(resend(db.pool, 'not-an-email'), 'AU005');
    await expectSqlState(resend(db.pool, null), 'AU009');
    await expectSqlState(resend(db.pool, uniqueEmail('x'), { tokenTtl: '-1 day' }), 'AU009');
    await expectSqlState(resend(db.pool, uniqueEmail('x'), { tokenTtl: null }), 'AU009');
    await expectSqlState(resend(db.pool, uniqueEmail('x'), { minResendInterval: '-1 second' }), 'AU009');
  });
});
