// findUserByEmail and listOutstandingTokens against real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, InvalidArgumentError, type AuthDb } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectClientError, sleep, uniqueEmail, uniquePhone } from './helpers.js';

let db: TestDatabase;
let authDb: AuthDb<'user' | 'admin'>;

beforeAll(async () => {
  db = await createMigratedDatabase();
  authDb = createAuthDb<{ roles: 'user' | 'admin' }>({ connection: db.pool });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
});

describe('findUserByEmail', () => {
  it('finds a user by any spelling the database normalises to its address', async () => {
    const email = uniqueEmail('grace');
    const phone = uniquePhone();
    const { userId, token, registrationSecret } = await authDb.registerUser({ email, password: 'pw', phone });
    await authDb.verifyEmail(token, { registrationSecret });
    for (const spelling of [email, email.toUpperCase(), ` ${email}\t`, `\n\r\f\v${email.replace('grace', 'GrAcE')} `]) {
      const user = await authDb.findUserByEmail(spelling);
      expect(user).toEqual({
        id: userId,
        email,
        phone,
        role: 'user',
        hasPassword: true,
        emailConfirmedAt: expect.any(Date) as Date,
        phoneConfirmedAt: null,
        createdAt: expect.any(Date) as Date,
        updatedAt: expect.any(Date) as Date,
      });
    }
  });

  it('normalises on the server, exactly like register_user_with_token (collation-dependent lower() included)', async () => {
    const email = `ÅSA.${randomUUID().slice(0, 8)}@EXAMPLE.com`;
    const { userId } = await authDb.registerUser({ email });
    const { rows } = await db.pool.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [userId]);
    expect((await authDb.findUserByEmail(email))?.id).toBe(userId);
    expect((await authDb.findUserByEmail(`  ${email}  `))?.email).toBe(rows[0]?.email);
  });

  it('never returns the password hash', async () => {
    const email = uniqueEmail();
    const { token, registrationSecret } = await authDb.registerUser({ email, password: 'pw' });
    await authDb.verifyEmail(token, { registrationSecret });
    const user = await authDb.findUserByEmail(email);
    expect(user?.hasPassword).toBe(true);
    expect(JSON.stringify(user)).not.toContain('argon2');
    expect(Object.keys(user ?? {})).not.toContain('passwordHash');
  });

  it('reports passwordless users and unconfirmed addresses', async () => {
    const email = uniqueEmail();
    await authDb.registerUser({ email });
    expect(await authDb.findUserByEmail(email)).toMatchObject({ hasPassword: false, emailConfirmedAt: null, phone: null });
  });

  it('returns undefined for an unknown address, and for a malformed one', async () => {
    expect(await authDb.findUserByEmail(uniqueEmail('nobody'))).toBeUndefined();
    expect(await authDb.findUserByEmail('not an email')).toBeUndefined();
  });
});

describe('listOutstandingTokens', () => {
  it("lists the outstanding token's metadata, never a hash", async () => {
    const phone = uniquePhone();
    const registered = await authDb.registerUser({ email: uniqueEmail(), password: 'pw', phone });
    const tokens = await authDb.listOutstandingTokens(registered.userId);
    expect(tokens).toEqual([
      {
        id: expect.stringMatching(/^\d+$/) as string,
        createdAt: expect.any(Date) as Date,
        expiresAt: registered.expiresAt,
        expired: false,
        role: 'user',
        phone,
        hasPassword: true,
      },
    ]);
    const serialised = JSON.stringify(tokens);
    expect(serialised).not.toContain('argon2');
    expect(serialised).not.toContain(registered.token);
    expect(Object.keys(tokens[0] ?? {}).some((key) => /hash/i.test(key))).toBe(false);
  });

  it('lists one token per pending registration, flags expiry, and is empty once verified', async () => {
    const email = uniqueEmail();
    const first = await authDb.registerUser({ email, password: 'pw' });
    // Throttle off: the resend may start within a millisecond of the registration.
    const second = await authDb.resendEmailVerification(email, { tokenTtl: 1, minResendInterval: 0 });
    await sleep(20);
    const [older, newer, ...rest] = await authDb.listOutstandingTokens(first.userId);
    expect(rest).toEqual([]);
    expect(older).toMatchObject({ expiresAt: first.expiresAt, expired: false, hasPassword: true });
    // A resend without the registration secret carries no credentials.
    expect(newer).toMatchObject({ expiresAt: second.expiresAt, expired: true, hasPassword: false });
    const third = await authDb.resendEmailVerification(email, { minResendInterval: 1 });
    await authDb.verifyEmail(third.token);
    expect(await authDb.listOutstandingTokens(first.userId)).toEqual([]);
  });

  it('returns nothing for an unknown user and rejects a malformed id before any query', async () => {
    expect(await authDb.listOutstandingTokens(randomUUID())).toEqual([]);
    const error = await expectClientError(authDb.listOutstandingTokens('42'), InvalidArgumentError);
    expect(error.argument).toBe('userId');
  });
});
