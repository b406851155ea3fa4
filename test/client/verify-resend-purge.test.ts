// verifyEmail, resendEmailVerification and purgeExpiredTokens against real
// PostgreSQL, with every error they raise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthDb,
  EmailAlreadyRegisteredError,
  InvalidArgumentError,
  InvalidEmailError,
  ResendTooSoonError,
  RoleNotSelfAssignableError,
  TokenAlreadyUsedError,
  TokenExpiredError,
  TooManyOutstandingTokensError,
  UnknownTokenError,
  UserNotFoundError,
  type AuthDb,
} from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectClientError, expectDatabaseError, sleep, uniqueEmail, uniquePhone } from './helpers.js';

let db: TestDatabase;
let authDb: AuthDb;

beforeAll(async () => {
  db = await createMigratedDatabase();
  authDb = createAuthDb({ connection: db.url });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
});

async function tokenStates(userId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ state: string }>(
    `SELECT CASE WHEN consumed_at IS NOT NULL THEN 'consumed' WHEN revoked_at IS NOT NULL THEN 'revoked' ELSE 'outstanding' END AS state
       FROM email_verification_tokens WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows.map((r) => r.state);
}

describe('verifyEmail', () => {
  it('confirms the address and returns the user id', async () => {
    const { userId, token } = await authDb.registerUser({ email: uniqueEmail() });
    expect(await authDb.verifyEmail(token)).toEqual({ userId });
    const { rows } = await db.pool.query<{ confirmed: boolean }>('SELECT email_confirmed_at IS NOT NULL AS confirmed FROM users WHERE id = $1', [userId]);
    expect(rows[0]?.confirmed).toBe(true);
    expect(await tokenStates(userId)).toEqual(['consumed']);
  });

  it('an unknown token: UnknownTokenError (AU010)', async () => {
    await expectDatabaseError(authDb.verifyEmail('no-such-token'), UnknownTokenError, 'AU010');
    await expectDatabaseError(authDb.verifyEmail(''), UnknownTokenError, 'AU010');
  });

  it('an expired token: TokenExpiredError (AU011)', async () => {
    const { token } = await authDb.registerUser({ email: uniqueEmail(), tokenTtl: 1 });
    await sleep(20);
    const error = await expectDatabaseError(authDb.verifyEmail(token), TokenExpiredError, 'AU011');
    expect(error.detail).toMatch(/^It expired at /);
    expect(error.hint).toBe('Request a new verification email.');
  });

  it('a token used twice: TokenAlreadyUsedError (AU012)', async () => {
    const { token } = await authDb.registerUser({ email: uniqueEmail() });
    await authDb.verifyEmail(token);
    await expectDatabaseError(authDb.verifyEmail(token), TokenAlreadyUsedError, 'AU012');
  });

  it('a token revoked when another token of the user was verified: TokenAlreadyUsedError (AU012)', async () => {
    const email = uniqueEmail();
    const first = await authDb.registerUser({ email });
    const resent = await authDb.resendEmailVerification(email, { minResendInterval: 0 }); // may start within 1 ms of the registration
    await authDb.verifyEmail(resent.token);
    const error = await expectDatabaseError(authDb.verifyEmail(first.token), TokenAlreadyUsedError, 'AU012');
    expect(error.message).toContain('revoked');
  });

  it('rejects a non-string token before any query (JavaScript callers)', async () => {
    await expectClientError(authDb.verifyEmail(undefined as unknown as string), InvalidArgumentError);
  });
});

describe('resendEmailVerification', () => {
  it('with the registration secret: a new token for that registration, which replaces its old one', async () => {
    const email = uniqueEmail();
    const phone = uniquePhone();
    const first = await authDb.registerUser({ email, phone });
    const before = Date.now();
    const resent = await authDb.resendEmailVerification(` ${email.toUpperCase()} `, {
      tokenTtl: '00:30:00',
      minResendInterval: 0, // throttle off: this may start within 1 ms of the registration
      registrationSecret: first.registrationSecret,
    });
    expect(resent.userId).toBe(first.userId);
    expect(resent.token).not.toBe(first.token);
    expect(Math.abs(resent.expiresAt.getTime() - before - 1_800_000)).toBeLessThan(60_000);
    expect(await tokenStates(first.userId)).toEqual(['revoked', 'outstanding']);
    await authDb.verifyEmail(resent.token, { registrationSecret: first.registrationSecret });
    const { rows } = await db.pool.query<{ phone: string }>('SELECT phone FROM users WHERE id = $1', [first.userId]);
    expect(rows[0]?.phone).toBe(phone);
  });

  it('too soon (default 60 seconds): ResendTooSoonError (AU008)', async () => {
    const email = uniqueEmail();
    await authDb.registerUser({ email });
    await expectDatabaseError(authDb.resendEmailVerification(email), ResendTooSoonError, 'AU008');
  });

  it('an unknown address: UserNotFoundError (AU007)', async () => {
    await expectDatabaseError(authDb.resendEmailVerification(uniqueEmail('nobody')), UserNotFoundError, 'AU007');
  });

  it('a confirmed address: EmailAlreadyRegisteredError (AU001)', async () => {
    const email = uniqueEmail();
    const { token } = await authDb.registerUser({ email });
    await authDb.verifyEmail(token);
    await expectDatabaseError(authDb.resendEmailVerification(email, { minResendInterval: 1 }), EmailAlreadyRegisteredError, 'AU001');
  });

  it('an invalid address: InvalidEmailError (AU005)', async () => {
    await expectDatabaseError(authDb.resendEmailVerification('nope'), InvalidEmailError, 'AU005');
  });
});

describe('purgeExpiredTokens', () => {
  // A database of its own: the purge counts every dead token in it.
  let purgeDb: TestDatabase;
  let purging: AuthDb;
  beforeAll(async () => {
    purgeDb = await createMigratedDatabase();
    purging = createAuthDb({ connection: purgeDb.pool });
  });
  afterAll(() => purgeDb.close());

  async function consumedStates(userId: string): Promise<string[]> {
    const { rows } = await purgeDb.pool.query<{ consumed: boolean }>('SELECT consumed_at IS NOT NULL AS consumed FROM email_verification_tokens WHERE user_id = $1', [userId]);
    return rows.map((r) => (r.consumed ? 'consumed' : 'not consumed'));
  }

  it('deletes dead tokens older than olderThan, then the unconfirmed users left without any, and returns the token count', async () => {
    // Confirmed user: its consumed token is purgeable; the user stays.
    const confirmedEmail = uniqueEmail();
    const confirmed = await purging.registerUser({ email: confirmedEmail });
    await purging.verifyEmail(confirmed.token);
    // Unconfirmed user whose two tokens expired: both go, and so does the user.
    const email = uniqueEmail();
    const pending = await purging.registerUser({ email, tokenTtl: 1 });
    await purging.resendEmailVerification(email, { tokenTtl: 1, minResendInterval: 0 }); // may start within 1 ms of the registration
    await sleep(30);

    expect(await purging.purgeExpiredTokens()).toBe(0); // default: older than 7 days
    expect(await purging.purgeExpiredTokens('1 hour')).toBe(0);
    expect(await purging.purgeExpiredTokens(10)).toBe(3);
    expect(await consumedStates(confirmed.userId)).toEqual([]);
    expect(await consumedStates(pending.userId)).toEqual([]);
    expect(await purging.findUserByEmail(email)).toBeUndefined();
    expect((await purging.findUserByEmail(confirmedEmail))?.id).toBe(confirmed.userId);
    expect(await purging.purgeExpiredTokens('10 milliseconds')).toBe(0);
  });

  it('rejects a bad olderThan before any query', async () => {
    const error = await expectClientError(purging.purgeExpiredTokens('-7 days'), InvalidArgumentError);
    expect(error.argument).toBe('olderThan');
  });
});

describe('issue 14: the bound, the role at verification, the address to mail', () => {
  it('registerUser and resendEmailVerification return the stored address; at the bound: TooManyOutstandingTokensError (AU013)', async () => {
    const email = uniqueEmail('kate');
    const typed = `\u212A${email.slice(1).toUpperCase()}`;
    const first = await authDb.registerUser({ email: typed, password: 'owner password' });
    expect(first.email).toBe(email);
    expect((await authDb.resendEmailVerification(typed, { minResendInterval: 0 })).email).toBe(email);
    for (let i = 0; i < 3; i += 1) await authDb.registerUser({ email, minResendInterval: 0 });
    const error = await expectDatabaseError(authDb.registerUser({ email, minResendInterval: 0 }), TooManyOutstandingTokensError, 'AU013');
    expect(error.hint).toMatch(/^Use one of the links already mailed to the address, or try again after /);
    await expectDatabaseError(authDb.resendEmailVerification(email, { minResendInterval: 0 }), TooManyOutstandingTokensError, 'AU013');
    expect(await authDb.verifyEmail(first.token, { registrationSecret: first.registrationSecret })).toEqual({ userId: first.userId });
  });

  it('verifyEmail: RoleNotSelfAssignableError (AU004) for a role made non-self-assignable after registration', async () => {
    await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('client_seller', true)");
    const reg = await authDb.registerUser({ email: uniqueEmail('seller'), role: 'client_seller' });
    await db.pool.query("UPDATE roles SET self_assignable = false WHERE name = 'client_seller'");
    await expectDatabaseError(authDb.verifyEmail(reg.token), RoleNotSelfAssignableError, 'AU004');
    expect((await authDb.previewEmailVerification(reg.token)).tokenState).toBe('valid');
  });
});
