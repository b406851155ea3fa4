// registerUser against real PostgreSQL: outcomes, argon2id hashing, every
// error it can raise, and client-side validation that sends no query.
import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthDb,
  EmailAlreadyRegisteredError,
  InvalidArgumentError,
  InvalidEmailError,
  InvalidPhoneError,
  PhoneAlreadyRegisteredError,
  ResendTooSoonError,
  RoleNotSelfAssignableError,
  UnknownRoleError,
  type AuthDb,
} from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectClientError, expectDatabaseError, recordingKysely, sleep, uniqueEmail, uniquePhone } from './helpers.js';

let db: TestDatabase;
let authDb: AuthDb<'user' | 'admin' | 'editor' | 'wizard'>;

beforeAll(async () => {
  db = await createMigratedDatabase();
  await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('editor', true)");
  authDb = createAuthDb<{ roles: 'user' | 'admin' | 'editor' | 'wizard' }>({ connection: db.pool });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
});

interface StoredUser {
  readonly email: string;
  readonly password_hash: string | null;
  readonly phone: string | null;
  readonly role: string;
  readonly email_confirmed_at: Date | null;
}

async function storedUser(id: string): Promise<StoredUser | undefined> {
  const { rows } = await db.pool.query<StoredUser>('SELECT email, password_hash, phone, role, email_confirmed_at FROM users WHERE id = $1', [id]);
  return rows[0];
}

/** The password hash the user's newest registration carries (the users row holds none until verification). */
async function pendingHash(userId: string): Promise<string | null | undefined> {
  const { rows } = await db.pool.query<{ password_hash: string | null }>(
    'SELECT password_hash FROM email_verification_tokens WHERE user_id = $1 ORDER BY id DESC LIMIT 1',
    [userId],
  );
  return rows[0]?.password_hash;
}

describe('registerUser', () => {
  it('creates an unconfirmed user, normalising the address, and returns a token', async () => {
    const email = uniqueEmail('ada');
    const before = Date.now();
    const result = await authDb.registerUser({ email: `  ${email.toUpperCase()}\t`, tokenTtl: '2 hours' });
    expect(result.outcome).toBe('created');
    expect(result.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.expiresAt).toBeInstanceOf(Date);
    expect(result.expiresAt.getTime() - before).toBeGreaterThan(2 * 3_600_000 - 60_000);
    expect(result.expiresAt.getTime() - before).toBeLessThan(2 * 3_600_000 + 60_000);
    expect(await storedUser(result.userId)).toMatchObject({ email, password_hash: null, role: 'user', email_confirmed_at: null });
  });

  // PostgreSQL 14 read '2592000000 milliseconds' as a 32-bit integer: 22015 for anything over 24.8 days.
  it.each([['30 days', 30 * 86_400_000], ['52 weeks', 364 * 86_400_000]] as const)('accepts a tokenTtl of %s on every supported server', async (tokenTtl, milliseconds) => {
    const before = Date.now();
    const result = await authDb.registerUser({ email: uniqueEmail(), tokenTtl });
    expect(Math.abs(result.expiresAt.getTime() - before - milliseconds)).toBeLessThan(60_000);
  });

  it('uses the function defaults when options are omitted (24 hours, role user)', async () => {
    const before = Date.now();
    const result = await authDb.registerUser({ email: uniqueEmail() });
    expect(Math.abs(result.expiresAt.getTime() - before - 86_400_000)).toBeLessThan(60_000);
    expect((await storedUser(result.userId))?.role).toBe('user');
  });

  it('hashes a password with argon2id in the client; the plaintext is never sent', async () => {
    const { kysely, queries } = recordingKysely(db.pool);
    const recorded = createAuthDb({ connection: kysely });
    const password = 'correct horse battery staple';
    const result = await recorded.registerUser({ email: uniqueEmail(), password });
    expect(result.registrationSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await pendingHash(result.userId);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verify(stored ?? '', password)).toBe(true);
    expect(await verify(stored ?? '', 'wrong')).toBe(false);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.parameters).not.toContain(password);
    expect(JSON.stringify(queries)).not.toContain(password);
  });

  it('honours custom argon2id costs', async () => {
    const cheap = createAuthDb({ connection: db.pool, passwordHashing: { memoryCost: 8192, timeCost: 3 } });
    const { userId } = await cheap.registerUser({ email: uniqueEmail(), password: 'pw' });
    expect(await pendingHash(userId)).toMatch(/^\$argon2id\$v=19\$m=8192,t=3,p=1\$/);
  });

  it('stores a given passwordHash as is', async () => {
    const passwordHash = '$2b$12$abcdefghijklmnopqrstuuN9Hv1cTX8M8W5eIuBY9bMm9Ob6nmkzK';
    const { userId, token, registrationSecret } = await authDb.registerUser({ email: uniqueEmail(), passwordHash });
    expect(await pendingHash(userId)).toBe(passwordHash);
    await authDb.verifyEmail(token, { registrationSecret });
    expect((await storedUser(userId))?.password_hash).toBe(passwordHash);
  });

  it("reissues for an unconfirmed address; a password becomes the user's only when verified with its registration secret", async () => {
    const email = uniqueEmail('contested');
    const squatter = await authDb.registerUser({ email, password: 'squatter password', minResendInterval: 1 });
    await sleep(5);
    const owner = await authDb.registerUser({ email, password: 'owner password', phone: uniquePhone(), role: 'editor', minResendInterval: 1 });
    expect(owner.outcome).toBe('reissued');
    expect(owner.userId).toBe(squatter.userId);

    // Meanwhile the account holds no password at all.
    expect(await storedUser(owner.userId)).toMatchObject({ password_hash: null, role: 'user', phone: null, email_confirmed_at: null });

    await authDb.verifyEmail(owner.token, { registrationSecret: owner.registrationSecret });
    const afterVerify = await storedUser(owner.userId);
    expect(afterVerify?.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verify(afterVerify?.password_hash ?? '', 'owner password')).toBe(true);
    expect(await verify(afterVerify?.password_hash ?? '', 'squatter password')).toBe(false);
    expect(afterVerify?.role).toBe('editor');
    expect(afterVerify?.email_confirmed_at).toBeInstanceOf(Date);
  });

  it('register → verify → register again: EmailAlreadyRegisteredError (AU001)', async () => {
    const email = uniqueEmail();
    const { token } = await authDb.registerUser({ email, password: 'first' });
    await authDb.verifyEmail(token);
    const error = await expectDatabaseError(authDb.registerUser({ email: email.toUpperCase(), password: 'second' }), EmailAlreadyRegisteredError, 'AU001');
    expect(error.message).toContain(email);
    expect(error.hint).toBe('Sign in, or use the password-reset flow.');
  });

  it('a phone confirmed by another user: PhoneAlreadyRegisteredError (AU002)', async () => {
    const phone = uniquePhone();
    const other = await authDb.registerUser({ email: uniqueEmail(), phone });
    await authDb.verifyEmail(other.token, { registrationSecret: other.registrationSecret });
    // Phone confirmation is a separate flow outside the registration functions.
    await db.pool.query('UPDATE users SET phone_confirmed_at = now() WHERE id = $1', [other.userId]);
    await expectDatabaseError(authDb.registerUser({ email: uniqueEmail(), phone: phone.replace(/^(\+\d{2})/, '$1 ') }), PhoneAlreadyRegisteredError, 'AU002');
  });

  it('an unknown role: UnknownRoleError (AU003)', async () => {
    await expectDatabaseError(authDb.registerUser({ email: uniqueEmail(), role: 'wizard' }), UnknownRoleError, 'AU003');
  });

  it('a role that is not self-assignable: RoleNotSelfAssignableError (AU004)', async () => {
    await expectDatabaseError(authDb.registerUser({ email: uniqueEmail(), role: 'admin' }), RoleNotSelfAssignableError, 'AU004');
  });

  it.each(['not-an-email', 'two@@example.com', '', '   '])('an invalid address %j: InvalidEmailError (AU005)', async (email) => {
    await expectDatabaseError(authDb.registerUser({ email }), InvalidEmailError, 'AU005');
  });

  it('an invalid phone: InvalidPhoneError (AU006)', async () => {
    await expectDatabaseError(authDb.registerUser({ email: uniqueEmail(), phone: '0800 FLOWERS' }), InvalidPhoneError, 'AU006');
  });

  it('registering again within minResendInterval: ResendTooSoonError (AU008)', async () => {
    const email = uniqueEmail();
    await authDb.registerUser({ email });
    const error = await expectDatabaseError(authDb.registerUser({ email }), ResendTooSoonError, 'AU008');
    expect(error.hint).toMatch(/^Retry after /);
  });

  it('an argument the database rejects (empty password hash): InvalidArgumentError (AU009) with the database cause', async () => {
    const error = await expectDatabaseError(authDb.registerUser({ email: uniqueEmail(), passwordHash: '' }), InvalidArgumentError, 'AU009');
    expect(error.argument).toBe('p_password_hash');
  });
});

describe('registerUser validation before any query', () => {
  it.each([
    ['tokenTtl', { tokenTtl: -1 }],
    ['tokenTtl', { tokenTtl: Number.NaN }],
    ['tokenTtl', { tokenTtl: 'tomorrow' }],
    ['tokenTtl', { tokenTtl: '1 month' }],
    ['minResendInterval', { minResendInterval: -1 }],
    ['minResendInterval', { minResendInterval: '-60 seconds' }],
  ] as const)('rejects a bad %s (%j) with InvalidArgumentError, sending nothing', async (argument, options) => {
    const { kysely, queries } = recordingKysely(db.pool);
    const client = createAuthDb({ connection: kysely });
    const error = await expectClientError(client.registerUser({ email: uniqueEmail(), password: 'pw', ...options }), InvalidArgumentError);
    expect(error.code).toBe('AU009');
    expect(error.argument).toBe(argument);
    expect(queries).toEqual([]);
  });

  it('rejects before any query: proven on a pool that was already ended', async () => {
    const endedPool = new pg.Pool({ connectionString: db.url });
    await endedPool.end();
    const client = createAuthDb({ connection: endedPool });
    await expectClientError(client.registerUser({ email: uniqueEmail(), tokenTtl: 'garbage' }), InvalidArgumentError);
    await expectClientError(client.resendEmailVerification(uniqueEmail(), { minResendInterval: -5 }), InvalidArgumentError);
    await expectClientError(client.purgeExpiredTokens('0 days'), InvalidArgumentError);
    await expectClientError(client.purgeExpiredTokens(Number.POSITIVE_INFINITY), InvalidArgumentError);
    // A valid call does reach the pool, and fails there.
    await expect(client.purgeExpiredTokens()).rejects.toThrow(/Cannot use a pool after calling end/);
  });

  it('rejects password and passwordHash together, and non-string arguments, from JavaScript callers', async () => {
    const { kysely, queries } = recordingKysely(db.pool);
    const client = createAuthDb({ connection: kysely });
    const both = { email: uniqueEmail(), password: 'pw', passwordHash: '$argon2id$x' } as unknown as Parameters<AuthDb['registerUser']>[0];
    expect((await expectClientError(client.registerUser(both), InvalidArgumentError)).message).toBe('password, passwordHash: give one of them, not both');
    const noEmail = {} as unknown as Parameters<AuthDb['registerUser']>[0];
    expect((await expectClientError(client.registerUser(noEmail), InvalidArgumentError)).argument).toBe('email');
    await expectClientError(client.registerUser({ email: uniqueEmail(), password: '' }), InvalidArgumentError);
    await expectClientError(client.verifyEmail(42 as unknown as string), InvalidArgumentError);
    expect(queries).toEqual([]);
  });
});

describe('registerUser timing (no e-mail enumeration)', () => {
  it('hashes the password before the database call whatever the outcome: AU001 sends a hash too', async () => {
    const email = uniqueEmail();
    const { token } = await authDb.registerUser({ email, password: 'pw' });
    await authDb.verifyEmail(token);
    const { kysely, queries } = recordingKysely(db.pool);
    const client = createAuthDb({ connection: kysely });
    await expectDatabaseError(client.registerUser({ email, password: 'pw' }), EmailAlreadyRegisteredError, 'AU001');
    expect(queries).toHaveLength(1);
    expect(queries[0]?.parameters.some((p) => typeof p === 'string' && p.startsWith('$argon2id$'))).toBe(true);
  });
});
