// verifyPassword (sign_in_credentials + argon2id), verifyEmail with a secret
// or a password chosen at verification, and previewEmailVerification.
import { verify } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, InvalidArgumentError, InvalidEmailError, UnsupportedPasswordHashError, type AuthDb } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectClientError, expectDatabaseError, recordingKysely, uniqueEmail, uniquePhone } from './helpers.js';

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

async function storedHash(userId: string): Promise<string | null | undefined> {
  const { rows } = await db.pool.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
  return rows[0]?.password_hash;
}

describe('verifyPassword', () => {
  it('returns the user id and role for the right password of a confirmed account, whatever the spelling of the address', async () => {
    const email = uniqueEmail('sign-in');
    const { userId, token, registrationSecret } = await authDb.registerUser({ email, password: 'right password' });
    await authDb.verifyEmail(token, { registrationSecret });
    expect(await authDb.verifyPassword({ email: ` ${email.toUpperCase()} `, password: 'right password' })).toEqual({ userId, role: 'user' });
    expect(await authDb.verifyPassword({ email, password: 'wrong password' })).toBeUndefined();
  });

  it('returns undefined for an unknown address, an unconfirmed one and a passwordless account', async () => {
    expect(await authDb.verifyPassword({ email: uniqueEmail('nobody'), password: 'pw' })).toBeUndefined();
    const pending = uniqueEmail('pending');
    await authDb.registerUser({ email: pending, password: 'pw' });
    expect(await authDb.verifyPassword({ email: pending, password: 'pw' })).toBeUndefined();
    const passwordless = uniqueEmail('passwordless');
    const { token } = await authDb.registerUser({ email: passwordless });
    await authDb.verifyEmail(token);
    expect(await authDb.verifyPassword({ email: passwordless, password: '' })).toBeUndefined();
  });

  it('sends only the address, never the password', async () => {
    const { kysely, queries } = recordingKysely(db.pool);
    const client = createAuthDb({ connection: kysely });
    expect(await client.verifyPassword({ email: uniqueEmail(), password: 'never sent' })).toBeUndefined();
    expect(queries).toHaveLength(1);
    expect(JSON.stringify(queries)).not.toContain('never sent');
  });

  it('rejects an invalid address (AU005) and non-string arguments', async () => {
    await expectDatabaseError(authDb.verifyPassword({ email: 'not an address', password: 'pw' }), InvalidEmailError, 'AU005');
    await expectClientError(authDb.verifyPassword({ email: uniqueEmail(), password: 42 as unknown as string }), InvalidArgumentError);
  });

  it.each(['$2b$', '$2a$', '$2y$'])('verifies an imported bcrypt %s hash: the right password signs in, a wrong one does not', async (prefix) => {
    const email = uniqueEmail('bcrypt');
    const passwordHash = (await bcryptHash('imported password', 4)).replace(/^\$2b\$/, prefix);
    const { userId, token, registrationSecret } = await authDb.registerUser({ email, passwordHash });
    await authDb.verifyEmail(token, { registrationSecret });
    expect(await storedHash(userId)).toBe(passwordHash);
    expect(await authDb.verifyPassword({ email, password: 'imported password' })).toEqual({ userId, role: 'user' });
    expect(await authDb.verifyPassword({ email, password: 'imported passwore' })).toBeUndefined();
  });

  it('refuses, with UnsupportedPasswordHashError and without quoting it, a stored hash of another scheme', async () => {
    const email = uniqueEmail('pbkdf2');
    const passwordHash = 'pbkdf2_sha256$600000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA==';
    const { token, registrationSecret } = await authDb.registerUser({ email, passwordHash });
    await authDb.verifyEmail(token, { registrationSecret });
    const error = await authDb.verifyPassword({ email, password: 'pw' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedPasswordHashError);
    expect(error).toMatchObject({ code: 'AUTHDB_PASSWORD_HASH', name: 'UnsupportedPasswordHashError' });
    expect((error as Error).message).toMatch(/neither an argon2 PHC string .* nor a bcrypt hash/);
    expect((error as Error).message).not.toContain(passwordHash);
  });
});

describe('verifyEmail with a registration secret or a password', () => {
  it("without the secret, the registration's password and phone never apply; a password given here does, hashed with argon2id", async () => {
    const email = uniqueEmail('verify-pw');
    const squatter = await authDb.registerUser({ email, password: 'squatter password', phone: uniquePhone() });
    const preview = await authDb.previewEmailVerification(squatter.token);
    expect(preview).toMatchObject({ userId: squatter.userId, tokenState: 'valid', tokenValid: true, setsPassword: false, setsPhone: false, role: 'user' });

    const { kysely, queries } = recordingKysely(db.pool);
    const recorded = createAuthDb({ connection: kysely });
    await recorded.verifyEmail(squatter.token, { password: 'owner password' });
    expect(JSON.stringify(queries)).not.toContain('owner password');
    const hash = await storedHash(squatter.userId);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verify(hash ?? '', 'owner password')).toBe(true);
    expect(await authDb.verifyPassword({ email, password: 'squatter password' })).toBeUndefined();
    expect(await authDb.verifyPassword({ email, password: 'owner password' })).toEqual({ userId: squatter.userId, role: 'user' });
  });

  it('with the secret, the preview says a password would be set, and verification sets it', async () => {
    const email = uniqueEmail('verify-secret');
    const reg = await authDb.registerUser({ email, password: 'chosen at sign-up' });
    expect(await authDb.previewEmailVerification(reg.token, { registrationSecret: reg.registrationSecret })).toEqual({
      userId: reg.userId,
      tokenState: 'valid',
      tokenValid: true,
      registrationSecretMatches: true,
      setsPassword: true,
      setsPhone: false,
      role: 'user',
      expiresAt: reg.expiresAt,
    });
    await authDb.verifyEmail(reg.token, { registrationSecret: reg.registrationSecret });
    expect(await authDb.verifyPassword({ email, password: 'chosen at sign-up' })).toEqual({ userId: reg.userId, role: 'user' });
    expect((await authDb.previewEmailVerification(reg.token)).tokenState).toBe('used');
    expect(await authDb.previewEmailVerification('unknown')).toMatchObject({ userId: null, tokenState: 'unknown', role: null, expiresAt: null });
  });

  it('rejects password and passwordHash together and a non-string secret, before any query', async () => {
    const { kysely, queries } = recordingKysely(db.pool);
    const client = createAuthDb({ connection: kysely });
    const both = { password: 'pw', passwordHash: '$argon2id$x' } as unknown as Parameters<AuthDb['verifyEmail']>[1];
    await expectClientError(client.verifyEmail('token', both), InvalidArgumentError);
    await expectClientError(client.verifyEmail('token', { registrationSecret: 42 as unknown as string }), InvalidArgumentError);
    expect(queries).toEqual([]);
  });
});
