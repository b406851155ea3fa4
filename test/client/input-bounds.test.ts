// Issue 14 §1, the typed client: a value over its bound (input-limits.ts) is
// refused before any work of the client's — no argon2 hashing, no query —
// with the error class the SQL function would raise. "No query" is read from
// Kysely's log of a real connection; "no hashing" from hashing options that
// argon2 refuses (memoryCost 1): a method that hashed would fail with
// argon2's plain Error instead of the typed one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthDb,
  InvalidArgumentError,
  InvalidEmailError,
  InvalidPhoneError,
  MAX_EMAIL_LENGTH,
  MAX_PASSWORD_LENGTH,
  MAX_TOKEN_LENGTH,
  UnknownRoleError,
  type AuthDb,
  type AuthDbError,
} from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectClientError, recordingKysely, uniqueEmail } from './helpers.js';

const MB = 1024 * 1024;
const HUGE = 'x'.repeat(MB);
const HUGE_EMAIL = `a@${HUGE}.com`;
const TOKEN = 't'.repeat(43);

let db: TestDatabase;
let queries: readonly unknown[];
/** Never hashes successfully: argon2 refuses memoryCost 1. */
let authDb: AuthDb;

beforeAll(async () => {
  db = await createMigratedDatabase();
  const recording = recordingKysely(db.pool);
  queries = recording.queries;
  authDb = createAuthDb({ connection: recording.kysely, passwordHashing: { memoryCost: 1 } });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
});

type ErrorClass = abstract new (...args: never[]) => AuthDbError;

const CASES: readonly (readonly [label: string, call: () => Promise<unknown>, errorClass: ErrorClass, message: string])[] = [
  ['registerUser email', () => authDb.registerUser({ email: HUGE_EMAIL, password: 'pw' }), InvalidEmailError, 'email: must be at most 1024 characters'],
  ['registerUser password', () => authDb.registerUser({ email: uniqueEmail(), password: HUGE }), InvalidArgumentError, 'password: must be at most 1024 characters'],
  ['registerUser passwordHash', () => authDb.registerUser({ email: uniqueEmail(), passwordHash: HUGE }), InvalidArgumentError, 'passwordHash: must be at most 1024 characters'],
  ['registerUser phone', () => authDb.registerUser({ email: uniqueEmail(), password: 'pw', phone: HUGE }), InvalidPhoneError, 'phone: must be at most 64 characters'],
  ['registerUser role', () => authDb.registerUser({ email: uniqueEmail(), password: 'pw', role: HUGE }), UnknownRoleError, 'role: must be at most 63 characters'],
  ['verifyEmail token', () => authDb.verifyEmail(HUGE, { password: 'pw' }), InvalidArgumentError, 'token: must be at most 64 characters'],
  ['verifyEmail registrationSecret', () => authDb.verifyEmail(TOKEN, { registrationSecret: HUGE, password: 'pw' }), InvalidArgumentError, 'registrationSecret: must be at most 64 characters'],
  ['verifyEmail password', () => authDb.verifyEmail(TOKEN, { password: HUGE }), InvalidArgumentError, 'password: must be at most 1024 characters'],
  ['verifyEmail passwordHash', () => authDb.verifyEmail(TOKEN, { passwordHash: HUGE }), InvalidArgumentError, 'passwordHash: must be at most 1024 characters'],
  ['previewEmailVerification token', () => authDb.previewEmailVerification(HUGE), InvalidArgumentError, 'token: must be at most 64 characters'],
  ['previewEmailVerification registrationSecret', () => authDb.previewEmailVerification(TOKEN, { registrationSecret: HUGE }), InvalidArgumentError, 'registrationSecret: must be at most 64 characters'],
  ['resendEmailVerification email', () => authDb.resendEmailVerification(HUGE_EMAIL), InvalidEmailError, 'email: must be at most 1024 characters'],
  ['resendEmailVerification registrationSecret', () => authDb.resendEmailVerification(uniqueEmail(), { registrationSecret: HUGE }), InvalidArgumentError, 'registrationSecret: must be at most 64 characters'],
  ['verifyPassword email', () => authDb.verifyPassword({ email: HUGE_EMAIL, password: 'pw' }), InvalidEmailError, 'email: must be at most 1024 characters'],
  ['verifyPassword password', () => authDb.verifyPassword({ email: uniqueEmail(), password: HUGE }), InvalidArgumentError, 'password: must be at most 1024 characters'],
  ['verifyPassword label', () => authDb.verifyPassword({ email: `a@${'b'.repeat(64)}.com`, password: 'pw' }), InvalidEmailError, 'email: each domain label must be at most 63 characters'],
  ['registerUser label at an ideographic full stop', () => authDb.registerUser({ email: `a@b\u3002${'c'.repeat(64)}`, password: 'pw' }), InvalidEmailError, 'email: each domain label must be at most 63 characters'],
];

describe('a value over its bound, to every client method', () => {
  it.each(CASES)('%s: the typed error, before hashing or any query', async (_label, call, errorClass, message) => {
    const before = queries.length;
    const error = await expectClientError(call(), errorClass);
    expect(error.message).toBe(message);
    expect(queries.length).toBe(before);
  });

  it('findUserByEmail: undefined, as for any address the database refuses, without a query', async () => {
    const before = queries.length;
    expect(await authDb.findUserByEmail(HUGE_EMAIL)).toBeUndefined();
    expect(await authDb.findUserByEmail(`a@${'b'.repeat(64)}.com`)).toBeUndefined();
    expect(queries.length).toBe(before);
  });

  it('values at their bounds are sent (and hashed): the same client then fails in argon2, not in the bounds', async () => {
    const before = queries.length;
    const atLimit = await authDb.registerUser({ email: uniqueEmail(), password: 'p'.repeat(MAX_PASSWORD_LENGTH) }).catch((error: unknown) => error);
    expect(atLimit).not.toBeInstanceOf(InvalidArgumentError);
    expect((atLimit as Error).message).toMatch(/memory cost/i);
    // Code points, not UTF-16 units: 1024 astral characters are 2048 units and fit.
    const astral = await authDb.verifyPassword({ email: uniqueEmail(), password: '\u{1f600}'.repeat(MAX_PASSWORD_LENGTH) }).catch((error: unknown) => error);
    expect((astral as Error).message).toMatch(/memory cost/i);
    // A 1024-character address (padded with blanks) and a 64-character token reach the server.
    const email = `${' '.repeat(MAX_EMAIL_LENGTH - 20)}${uniqueEmail('b')}`.slice(-MAX_EMAIL_LENGTH);
    expect(email).toHaveLength(MAX_EMAIL_LENGTH);
    expect(await authDb.findUserByEmail(email)).toBeUndefined();
    expect((await authDb.previewEmailVerification('t'.repeat(MAX_TOKEN_LENGTH))).tokenState).toBe('unknown');
    expect(queries.length).toBeGreaterThan(before);
  });
});
