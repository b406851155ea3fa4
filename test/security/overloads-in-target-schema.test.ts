import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApplicationRole } from '../../src/contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../../src/contract/check.js';
import { createAuthDb, isAuthDbError, type AuthDb } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';
import { plantOverloads } from '../support/shadowing.js';

// Issue 14 §5: overloads of authdb's own functions planted in the target
// schema itself (possible only after CREATE on it was granted, which the trust
// check refuses: defense in depth). PostgreSQL prefers a non-variadic match
// over a variadic one in the same schema, so VARIADIC overloads of every
// private helper never run; an overload whose extra arguments all have
// defaults makes a call of the original "not unique" (42725), which failed
// every registration through authdb_random_secret(int DEFAULT 0): the random
// secret is now written out in the bodies, so no call of it exists to break.

const SCHEMA = 'public';
const roles = new TestRoles();
let db: TestDatabase;
let app: TestRole;
let mallory: TestRole;
let planted: string[];
let authDb: AuthDb;

beforeAll(async () => {
  db = await createMigratedDatabase();
  app = await roles.create('authdb_overload_app');
  mallory = await roles.create('authdb_overload_mallory');
  const owner = await db.pool.connect();
  try {
    await applyApplicationRole({ client: owner, schema: SCHEMA, role: app.name, contract: await readContractFile(DEFAULT_CONTRACT_FILE), maintenance: true });
  } finally {
    owner.release();
  }
  await db.pool.query(`GRANT CREATE ON SCHEMA ${SCHEMA} TO ${mallory.name}`);
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT DISTINCT p.proname AS name FROM pg_catalog.pg_proc AS p
      WHERE p.pronamespace = $1::pg_catalog.regnamespace AND (p.proname LIKE 'authdb\\_%' OR p.proname = 'canonical_email')`,
    [SCHEMA],
  );
  const attacker = new pg.Client({ connectionString: mallory.urlFor(db.url) });
  await attacker.connect();
  try {
    planted = await plantOverloads(attacker, SCHEMA, rows.map((r) => r.name), 'variadic');
    // The reproduction: the zero-argument helper every registration called.
    await attacker.query(
      `CREATE FUNCTION ${SCHEMA}.authdb_random_secret(p_planted integer DEFAULT 0) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'planted authdb_random_secret ran'; END $$`,
    );
  } finally {
    await attacker.end();
  }
  authDb = createAuthDb({ connection: app.urlFor(db.url), schema: SCHEMA });
});

afterAll(async () => {
  await authDb.destroy();
  await db.close();
  await roles.dropAll([]);
});

/** `label: ok`, `label: AU…` for an authdb error, else `label: UNEXPECTED …` (a planted overload ran, or a call became "not unique"). */
async function outcome(label: string, call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return `${label}: ok`;
  } catch (error) {
    if (isAuthDbError(error)) return `${label}: ${error.code}`;
    return `${label}: UNEXPECTED ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
  }
}

describe('overloads planted in the target schema', () => {
  it('plants a VARIADIC overload of every private helper and of canonical_email', () => {
    expect(planted).toEqual(expect.arrayContaining(['canonical_email(p_email text) + variadic', 'authdb_normalize_phone(p_phone text) + variadic']));
    expect(planted.length).toBeGreaterThanOrEqual(10);
  });

  it('every API function still does its work on its success and error paths; no planted overload runs', async () => {
    const email = 'Overloaded@Example.com';
    const outcomes: string[] = [];
    let registration = { token: '', registrationSecret: '' };
    outcomes.push(await outcome('register', async () => {
      registration = await authDb.registerUser({ email, password: 'pw', phone: '+49 (0) 30 123456789' });
    }));
    outcomes.push(await outcome('register too soon', () => authDb.registerUser({ email })));
    outcomes.push(await outcome('resend', () => authDb.resendEmailVerification(email, { minResendInterval: 0 })));
    outcomes.push(await outcome('preview', () => authDb.previewEmailVerification(registration.token, { registrationSecret: registration.registrationSecret })));
    outcomes.push(await outcome('verify', () => authDb.verifyEmail(registration.token, { registrationSecret: registration.registrationSecret })));
    outcomes.push(await outcome('sign in', () => authDb.verifyPassword({ email, password: 'pw' })));
    outcomes.push(await outcome('register confirmed', () => authDb.registerUser({ email })));
    outcomes.push(await outcome('register invalid email', () => authDb.registerUser({ email: 'not an address' })));
    outcomes.push(await outcome('register invalid phone', () => authDb.registerUser({ email: 'other@example.com', phone: '+0 12' })));
    outcomes.push(await outcome('register unknown role', () => authDb.registerUser({ email: 'other@example.com', role: 'no_such_role' })));
    outcomes.push(await outcome('register admin', () => authDb.registerUser({ email: 'other@example.com', role: 'admin' })));
    outcomes.push(await outcome('register bad interval', () => authDb.registerUser({ email: 'other@example.com', tokenTtl: '1000000 days' })));
    outcomes.push(await outcome('purge', () => authDb.purgeExpiredTokens(1)));
    expect(outcomes).toEqual([
      'register: ok',
      'register too soon: AU008',
      'resend: ok',
      'preview: ok',
      'verify: ok',
      'sign in: ok',
      'register confirmed: AU001',
      'register invalid email: AU005',
      'register invalid phone: AU006',
      'register unknown role: AU003',
      'register admin: AU004',
      'register bad interval: AU009',
      'purge: ok',
    ]);
  });
});
