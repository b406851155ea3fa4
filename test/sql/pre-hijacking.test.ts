// Account pre-hijacking (issue 7, §2): somebody who registers an address they
// do not own can never get a credential onto the owner's account, and can
// never take the owner's own registration away. Each reproduction of the
// issue is one test; each failed on the token-carries-details design.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import {
  backdate,
  expectSqlState,
  preview,
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
});

afterAll(async () => {
  await db.close();
});

describe('reproductions of issue 7 §2', () => {
  it("owner registers, attacker re-registers 61 s later: the owner's token still works and sets the owner's password", async () => {
    const email = uniqueEmail('owner-first');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    await backdate(db.pool, owner.user_id, '61 seconds');
    const attacker = await register(db.pool, email, { passwordHash: 'attacker-hash', phone: uniquePhone() });
    expect(attacker).toMatchObject({ outcome: 'reissued', user_id: owner.user_id });

    // Not revoked, not changed: the owner's registration is intact.
    expect(await tokenRow(db.pool, owner.token)).toMatchObject({ password_hash: 'owner-hash', revoked_at: null });
    expect(await verifyAsRegistrant(db.pool, owner)).toBe(owner.user_id);
    expect(await userById(db.pool, owner.user_id)).toMatchObject({ password_hash: 'owner-hash', phone: null });
    // The attacker's token died with the verification.
    await expectSqlState(verify(db.pool, attacker.token, { registrationSecret: attacker.registration_secret }), 'AU012');
  });

  it("the owner verifies the newest mail, the attacker's: the attacker's password and phone never take effect", async () => {
    const email = uniqueEmail('newest-mail');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    await backdate(db.pool, owner.user_id, '61 seconds');
    const attacker = await register(db.pool, email, { passwordHash: 'attacker-hash', phone: uniquePhone() });

    // The owner opens the newest mail (the attacker's token) on a device
    // without the attacker's secret; the application asks for a password
    // because the preview says none would be set.
    expect(await preview(db.pool, attacker.token)).toMatchObject({ token_valid: true, sets_password: false, sets_phone: false });
    expect(await verify(db.pool, attacker.token, { passwordHash: 'owner-chosen-hash' })).toBe(owner.user_id);
    const user = await userById(db.pool, owner.user_id);
    expect(user).toMatchObject({ password_hash: 'owner-chosen-hash', phone: null });
    expect(user.email_confirmed_at).toBeInstanceOf(Date);
  });

  it("with the owner's secret, the attacker's token still sets no credential (secrets are per registration)", async () => {
    const email = uniqueEmail('mixed');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    const attacker = await register(db.pool, email, { passwordHash: 'attacker-hash', minResendInterval: '0 seconds' });
    expect(await preview(db.pool, attacker.token, owner.registration_secret)).toMatchObject({ registration_secret_matches: false, sets_password: false });
    await verify(db.pool, attacker.token, { registrationSecret: owner.registration_secret });
    expect((await userById(db.pool, owner.user_id)).password_hash).toBeNull();
  });

  it("attacker registers first, the owner gets AU008: the owner's only mail sets no attacker credential", async () => {
    const email = uniqueEmail('attacker-first');
    const attacker = await register(db.pool, email, { passwordHash: 'attacker-hash', phone: uniquePhone() });
    // Meanwhile the unconfirmed user holds nothing of the attacker's.
    expect(await userById(db.pool, attacker.user_id)).toMatchObject({ password_hash: null, phone: null });
    await expectSqlState(register(db.pool, email, { passwordHash: 'owner-hash' }), 'AU008');

    expect(await verify(db.pool, attacker.token)).toBe(attacker.user_id);
    const user = await userById(db.pool, attacker.user_id);
    expect(user).toMatchObject({ password_hash: null, phone: null });
    expect(user.email_confirmed_at).toBeInstanceOf(Date);
  });

  it("the owner presses 'resend' after the attacker registered: the resend never carries the attacker's details", async () => {
    const email = uniqueEmail('resend-after');
    const owner = await register(db.pool, email, { passwordHash: 'owner-hash' });
    await backdate(db.pool, owner.user_id, '61 seconds');
    await register(db.pool, email, { passwordHash: 'attacker-hash', phone: uniquePhone() });
    await backdate(db.pool, owner.user_id, '61 seconds');

    // With the owner's secret (the owner's browser): the owner's registration.
    const mine = await resend(db.pool, email, { registrationSecret: owner.registration_secret });
    expect(await tokenRow(db.pool, mine.token)).toMatchObject({ password_hash: 'owner-hash', phone: null, has_secret: true });
    await backdate(db.pool, owner.user_id, '61 seconds');
    // Without (another device): a token that carries nothing.
    const plain = await resend(db.pool, email);
    expect(await tokenRow(db.pool, plain.token)).toMatchObject({ password_hash: null, phone: null, has_secret: false });

    await verify(db.pool, mine.token, { registrationSecret: owner.registration_secret });
    expect((await userById(db.pool, owner.user_id)).password_hash).toBe('owner-hash');
  });

  it('a wrong secret counts as none: the address is confirmed, no carried credential applies', async () => {
    const reg = await register(db.pool, uniqueEmail('wrong-secret'), { passwordHash: 'h', phone: uniquePhone() });
    expect(await preview(db.pool, reg.token, 'guess')).toMatchObject({ registration_secret_matches: false, sets_password: false, sets_phone: false });
    await verify(db.pool, reg.token, { registrationSecret: 'guess' });
    expect(await userById(db.pool, reg.user_id)).toMatchObject({ password_hash: null, phone: null });
  });

  it('p_password_hash given with the matching secret wins over the carried hash', async () => {
    const reg = await register(db.pool, uniqueEmail('override'), { passwordHash: 'carried' });
    await verify(db.pool, reg.token, { registrationSecret: reg.registration_secret, passwordHash: 'chosen-now' });
    expect((await userById(db.pool, reg.user_id)).password_hash).toBe('chosen-now');
    await expectSqlState(verify(db.pool, (await register(db.pool, uniqueEmail('empty'))).token, { passwordHash: '' }), 'AU009');
  });
});

describe('preview_email_verification', () => {
  it('tells what verify_email would do, and changes nothing', async () => {
    const phone = uniquePhone();
    const reg = await register(db.pool, uniqueEmail('preview'), { passwordHash: 'h', phone });
    const before = await tokensOf(db.pool, reg.user_id);
    expect(await preview(db.pool, reg.token, reg.registration_secret)).toEqual({
      user_id: reg.user_id,
      token_state: 'valid',
      token_valid: true,
      registration_secret_matches: true,
      sets_password: true,
      sets_phone: true,
      role: 'user',
      expires_at: reg.expires_at,
    });
    expect(await preview(db.pool, reg.token)).toMatchObject({ token_valid: true, registration_secret_matches: false, sets_password: false, sets_phone: false });
    expect(await tokensOf(db.pool, reg.user_id)).toEqual(before);

    expect(await preview(db.pool, 'no-such-token')).toEqual({
      user_id: null,
      token_state: 'unknown',
      token_valid: false,
      registration_secret_matches: false,
      sets_password: false,
      sets_phone: false,
      role: null,
      expires_at: null,
    });
    await verifyAsRegistrant(db.pool, reg);
    expect(await preview(db.pool, reg.token, reg.registration_secret)).toMatchObject({ token_state: 'used', token_valid: false, sets_password: false });
    await expectSqlState(preview(db.pool, null), 'AU009');
  });

  it("reports 'expired' and 'revoked'", async () => {
    const email = uniqueEmail('preview-states');
    const a = await register(db.pool, email);
    const b = await register(db.pool, email, { minResendInterval: '0 seconds', tokenTtl: '1 millisecond' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await preview(db.pool, b.token)).token_state).toBe('expired');
    const c = await register(db.pool, email, { minResendInterval: '0 seconds' });
    await verify(db.pool, c.token);
    expect((await preview(db.pool, a.token)).token_state).toBe('revoked');
  });
});
