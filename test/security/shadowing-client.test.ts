import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApplicationRole } from '../../src/contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../../src/contract/check.js';
import { createAuthDb, isAuthDbError, type AuthDb } from '../../src/index.js';
import { createEmptyDatabase, migrateDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';
import { captureQueries, plantShadows, readShadowRecord } from '../support/shadowing.js';
import { emptyNames, plantOperatorShadows, plantTypeShadows, referencedNames, type ReferencedNames } from '../support/shadowing-types-operators.js';

// Issue 14 §2, reproduced on PostgreSQL 14 before this change: the
// application's connection at `search_path = public, pg_catalog` (authdb in
// `auth`, which the trust check accepts) and a `public.text` domain with a
// CHECK, planted by any login role: the write methods sent
// `"p_email" => $1::text`, so the domain's CHECK saw the e-mail address, the
// password hash, the token and the registration secret of every call.
//
// Nothing the typed client sends may resolve through the connection's
// search_path. The names come from the statements the client itself sends
// (captured from every pg.Client while each method runs, parsed with
// libpg-query): for every type, a domain that records its input; for every
// function, a same-signature shadow and better-matching overloads; for every
// operator, a same-signature operator — all in `public`, first on the
// application's path. Then every method runs again: results right, nothing recorded.

const SCHEMA = 'auth';
const ATTACKER_SCHEMA = 'public';
const HOSTILE_PATH = `${ATTACKER_SCHEMA}, pg_catalog`;
const roles = new TestRoles();
let db: TestDatabase;
let app: TestRole;
let mallory: TestRole;
let authDb: AuthDb;
let names: ReferencedNames;

beforeAll(async () => {
  db = await createEmptyDatabase();
  // PostgreSQL 14's default: every role may create in public.
  await db.pool.query(`GRANT CREATE ON SCHEMA ${ATTACKER_SCHEMA} TO PUBLIC`);
  await migrateDatabase(db.url, { schema: SCHEMA });
  app = await roles.create('authdb_client_shadow_app');
  mallory = await roles.create('authdb_client_shadow_mallory');
  const owner = await db.pool.connect();
  try {
    await applyApplicationRole({ client: owner, schema: SCHEMA, role: app.name, contract: await readContractFile(DEFAULT_CONTRACT_FILE), maintenance: true });
  } finally {
    owner.release();
  }
  // The read helpers need SELECT (a back-office role's); the hostile path is the application's own setting.
  await db.pool.query(`GRANT SELECT ON ${SCHEMA}.users, ${SCHEMA}.email_verification_tokens TO ${app.name};
    ALTER ROLE ${app.name} IN DATABASE ${db.name} SET search_path = ${HOSTILE_PATH}`);
  authDb = createAuthDb({ connection: app.urlFor(db.url), schema: SCHEMA });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
  await roles.dropAll([]);
});

/** Runs every method of the client on its success and error paths and checks each result; returns what each did. */
async function runEveryMethod(label: string): Promise<string[]> {
  const outcomes: string[] = [];
  /** The call's value, or undefined for an authdb error (an error path, listed in `outcomes` by its code). */
  const step = async <T>(name: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await call();
      outcomes.push(`${name}: ok`);
      return value;
    } catch (error) {
      if (!isAuthDbError(error)) throw error;
      outcomes.push(`${name}: ${error.code}`);
      return undefined;
    }
  };
  const email = `ada.${label}@example.com`;
  const nobody = `nobody.${label}@example.com`;
  const phone = '+4930123456789';
  const password = `correct horse ${label}`;
  const registered = await step('register', () => authDb.registerUser({ email, password, phone, tokenTtl: '1 hour', minResendInterval: 0 }));
  expect(registered?.outcome).toBe('created');
  const { userId = '', token = '', registrationSecret = '' } = registered ?? {};
  expect(await step('preview', () => authDb.previewEmailVerification(token, { registrationSecret }))).toMatchObject({
    userId,
    tokenState: 'valid',
    registrationSecretMatches: true,
    setsPassword: true,
    setsPhone: true,
  });
  const resent = await step('resend', () => authDb.resendEmailVerification(` ${email.toUpperCase()} `, { registrationSecret, minResendInterval: 0, tokenTtl: 3_600_000 }));
  const tokens = await step('list tokens', () => authDb.listOutstandingTokens(userId));
  expect(tokens?.map((t) => ({ hasPassword: t.hasPassword, expired: t.expired, phone: t.phone }))).toEqual([{ hasPassword: true, expired: false, phone }]);
  expect(await step('find unconfirmed', () => authDb.findUserByEmail(email.toUpperCase()))).toMatchObject({ id: userId, emailConfirmedAt: null, hasPassword: false });
  await step('verify revoked token', () => authDb.verifyEmail(token, { registrationSecret }));
  expect(await step('verify', () => authDb.verifyEmail(resent?.token ?? '', { registrationSecret }))).toEqual({ userId });
  await step('verify used token', () => authDb.verifyEmail(resent?.token ?? ''));
  await step('verify unknown token', () => authDb.verifyEmail(`no-such-token-${label}`));
  expect(await step('sign in', () => authDb.verifyPassword({ email, password }))).toEqual({ userId, role: 'user' });
  expect(await step('sign in, wrong password', () => authDb.verifyPassword({ email, password: 'wrong' }))).toBeUndefined();
  expect(await step('sign in, unknown address', () => authDb.verifyPassword({ email: nobody, password }))).toBeUndefined();
  expect(await step('find confirmed', () => authDb.findUserByEmail(email))).toMatchObject({ id: userId, phone, hasPassword: true });
  expect(await step('find unknown', () => authDb.findUserByEmail(nobody))).toBeUndefined();
  expect(await step('find invalid', () => authDb.findUserByEmail('not an address'))).toBeUndefined();
  await step('register confirmed', () => authDb.registerUser({ email }));
  await step('register admin', () => authDb.registerUser({ email: `admin.${label}@example.com`, role: 'admin' }));
  const other = `other.${label}@example.com`;
  const first = await step('register with a hash', () => authDb.registerUser({ email: other, passwordHash: `$argon2id$not-a-real-hash-${label}`, minResendInterval: 0 }));
  expect((await step('register again, reissued', () => authDb.registerUser({ email: other, minResendInterval: 0 })))?.outcome).toBe('reissued');
  expect(await step('verify with a password', () => authDb.verifyEmail(first?.token ?? '', { password: `chosen ${label}` }))).toEqual({ userId: first?.userId });
  await step('resend confirmed', () => authDb.resendEmailVerification(other));
  await step('resend unknown', () => authDb.resendEmailVerification(nobody));
  expect(await step('purge', () => authDb.purgeExpiredTokens('1 day'))).toBeGreaterThanOrEqual(0);
  expect(outcomes).toEqual([
    'register: ok',
    'preview: ok',
    'resend: ok',
    'list tokens: ok',
    'find unconfirmed: ok',
    'verify revoked token: AU012',
    'verify: ok',
    'verify used token: AU012',
    'verify unknown token: AU010',
    'sign in: ok',
    'sign in, wrong password: ok',
    'sign in, unknown address: ok',
    'find confirmed: ok',
    'find unknown: ok',
    'find invalid: ok',
    'register confirmed: AU001',
    'register admin: AU004',
    'register with a hash: ok',
    'register again, reissued: ok',
    'verify with a password: ok',
    'resend confirmed: AU001',
    'resend unknown: AU007',
    'purge: ok',
  ]);
  return outcomes;
}

describe(`the typed client on a connection with search_path = ${HOSTILE_PATH}`, () => {
  it('collects the types, functions and operators of every statement the client sends; every relation is schema-qualified', async () => {
    const capture = captureQueries();
    try {
      await runEveryMethod('collect');
    } finally {
      capture.stop();
    }
    names = emptyNames();
    for (const query of new Set(capture.queries)) await referencedNames(query, names);
    for (const type of ['text', 'interval', 'uuid']) expect(names.types).toContain(type);
    for (const fn of ['register_user_with_token', 'verify_email', 'sign_in_credentials', 'canonical_email', 'clock_timestamp']) expect(names.functions).toContain(fn);
    for (const operator of ['=', '<=']) expect(names.operators).toContain(operator);
    // Tables come through Kysely's withSchema: a relation without a schema would resolve through the path.
    expect([...names.unqualified].filter((name) => name.startsWith('relation '))).toEqual([]);
  });

  it('runs every method with a domain for each type, a shadow for each function and operator planted first on the path: right results, nothing recorded', async () => {
    const attacker = new pg.Client({ connectionString: mallory.urlFor(db.url) });
    await attacker.connect();
    let planted: string[];
    try {
      // Functions and operators first: the domains named like built-in types come last.
      const functions = await plantShadows({ client: attacker, schema: ATTACKER_SCHEMA, names: names.functions });
      const operators = await plantOperatorShadows({ client: attacker, schema: ATTACKER_SCHEMA, operators: names.operators });
      const types = await plantTypeShadows({ client: attacker, schema: ATTACKER_SCHEMA, types: names.types });
      planted = [...functions.planted, ...operators.planted, ...types.planted];
    } finally {
      await attacker.end();
    }
    for (const expected of ['public.text (domain)', 'public.uuid (domain)', 'public.interval (domain)', 'public.=(uuid, uuid) (operator)', 'public.=(text, text) (operator)', 'public.clock_timestamp()']) {
      expect(planted).toContain(expected);
    }
    expect(planted.some((p) => p.startsWith('public.<=(timestamp with time zone, timestamp with time zone)'))).toBe(true);
    expect(planted.some((p) => p.startsWith('public.register_user_with_token('))).toBe(true);

    const outcomes = await runEveryMethod('hostile');
    const admin = await db.pool.connect();
    try {
      const record = await readShadowRecord(admin, ATTACKER_SCHEMA);
      expect({ counted: record.counted, calls: record.calls }, `outcomes:\n${outcomes.join('\n')}`).toEqual({ counted: [], calls: [] });
    } finally {
      admin.release();
    }
  });
});
