import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationFunctions, applyApplicationRole } from '../../src/contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../../src/contract/check.js';
import { createAuthDb, isAuthDbError, type AuthDb } from '../../src/index.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/migrate/migration-source.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';
import { calledFunctionNames, plantShadows, readShadowRecord, type PlantedShadows } from '../support/shadowing.js';

// Issue 7 §1 "Tests" (b): the API functions' bodies are immune to shadowing
// even if a schema on their search_path later becomes writable. For every
// function name the migrations' bodies call (parsed, PL/pgSQL included), an
// attacker plants in the target schema — first on the functions' pinned
// search_path — a same-signature shadow and better-matching overloads that
// record current_user. Then every API function runs, as the application role,
// on its success and error paths: nothing may be recorded.
//
// EXPECTED RED until the SQL engineer's qualified function bodies (no
// pgcrypto, pg_catalog-qualified calls) are merged: today the shadow
// public.gen_random_bytes(integer) runs as the owner on every registration,
// and overloads such as convert_to(text, text) and format(text, text) win.

const SCHEMA = 'public';
/**
 * A resend interval of 1 µs (in milliseconds): the throttle's lookup still runs, but a call made
 * less than a millisecond after the last issue is not refused (1 ms would be, on a fast machine).
 */
const MICROSECOND = 0.001;
const roles = new TestRoles();
let db: TestDatabase;
let app: TestRole;
let mallory: TestRole;
let shadows: PlantedShadows;
let authDb: AuthDb;

beforeAll(async () => {
  db = await createMigratedDatabase();
  app = await roles.create('authdb_shadow_app');
  mallory = await roles.create('authdb_shadow_mallory');
  const owner = await db.pool.connect();
  try {
    await applyApplicationRole({ client: owner, schema: SCHEMA, role: app.name, contract: await readContractFile(DEFAULT_CONTRACT_FILE), maintenance: true });
  } finally {
    owner.release();
  }
  // Later, the schema becomes writable (PostgreSQL 14's default for `public`, or a careless GRANT).
  await db.pool.query(`GRANT CREATE ON SCHEMA ${SCHEMA} TO ${mallory.name}`);
  const names = new Set<string>();
  for (const file of (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((f) => f.endsWith('.up.sql')).sort()) {
    for (const name of await calledFunctionNames(await readFile(join(DEFAULT_MIGRATIONS_DIR, file), 'utf8'))) names.add(name);
  }
  const attacker = new pg.Client({ connectionString: mallory.urlFor(db.url) });
  await attacker.connect();
  try {
    shadows = await plantShadows({ client: attacker, schema: SCHEMA, names });
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

/** Marks an outcome that is neither success nor an authdb error: the test fails on it (after reporting what ran). */
const UNEXPECTED = 'UNEXPECTED';

/** Runs `call`: `label: ok`, `label: AU…` for an authdb error (an expected error path), else `label: UNEXPECTED …`. */
async function outcome(label: string, call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return `${label}: ok`;
  } catch (error) {
    if (isAuthDbError(error)) return `${label}: ${error.code}`;
    return `${label}: ${UNEXPECTED} ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
  }
}

describe('API function bodies under planted shadows and overloads', () => {
  it('plants shadows for the functions the migrations call, gen_random_bytes and the overloads of the issue included', () => {
    const planted = shadows.planted.join('\n');
    for (const expected of [`${SCHEMA}.convert_to(text, text)`, `${SCHEMA}.format(text, text)`, `${SCHEMA}.unnest(text[])`]) {
      expect(planted).toContain(expected);
    }
    // pgcrypto's function while the migrations still use it.
    if (shadows.planted.some((p) => p.includes('gen_random_bytes'))) expect(planted).toContain(`${SCHEMA}.gen_random_bytes(integer)`);
  });

  it('runs every API function on its success and error paths as the application role; no planted function runs', async () => {
    const email = 'shadowed@example.com';
    const other = 'other.shadowed@example.com';
    const outcomes: string[] = [];
    let token = '';
    outcomes.push(
      await outcome('register new', async () => {
        ({ token } = await authDb.registerUser({ email, password: 'pw', phone: '+4930123456789' }));
      }),
    );
    outcomes.push(await outcome('register again (too soon)', () => authDb.registerUser({ email })));
    outcomes.push(await outcome('resend', () => authDb.resendEmailVerification(email, { minResendInterval: MICROSECOND })));
    outcomes.push(await outcome('verify stale token', () => authDb.verifyEmail(token)));
    outcomes.push(
      await outcome('register again (reissue)', async () => {
        ({ token } = await authDb.registerUser({ email, password: 'pw2', phone: '+4930123456789', minResendInterval: MICROSECOND }));
      }),
    );
    outcomes.push(await outcome('verify', () => authDb.verifyEmail(token)));
    outcomes.push(await outcome('verify used token', () => authDb.verifyEmail(token)));
    outcomes.push(await outcome('verify unknown token', () => authDb.verifyEmail('no-such-token-no-such-token-no-such-token-x')));
    outcomes.push(await outcome('register confirmed', () => authDb.registerUser({ email })));
    outcomes.push(await outcome('resend confirmed', () => authDb.resendEmailVerification(email)));
    outcomes.push(await outcome('resend unknown', () => authDb.resendEmailVerification('nobody@example.com')));
    outcomes.push(await outcome('register confirmed phone', () => authDb.registerUser({ email: other, phone: '+4930123456789' })));
    outcomes.push(await outcome('register invalid email', () => authDb.registerUser({ email: 'not an address' })));
    outcomes.push(await outcome('register invalid phone', () => authDb.registerUser({ email: other, phone: '12' })));
    outcomes.push(await outcome('register unknown role', () => authDb.registerUser({ email: other, role: 'no_such_role' })));
    outcomes.push(await outcome('register admin', () => authDb.registerUser({ email: other, role: 'admin' })));
    outcomes.push(await outcome('register expired', () => authDb.registerUser({ email: other, tokenTtl: 1 })));
    outcomes.push(await outcome('purge', () => authDb.purgeExpiredTokens(1)));
    // Every application function of the contract with NULL arguments: its argument checks.
    const client = new pg.Client({ connectionString: app.urlFor(db.url) });
    await client.connect();
    try {
      for (const signature of applicationFunctions(await readContractFile(DEFAULT_CONTRACT_FILE), { maintenance: true })) {
        const [name, types] = [signature.slice(0, signature.indexOf('(')), signature.slice(signature.indexOf('(') + 1, -1)];
        const args = types === '' ? '' : types.split(', ').map((t) => `NULL::${t}`).join(', ');
        outcomes.push(
          await client.query(`SELECT * FROM ${SCHEMA}.${name}(${args})`).then(
            () => `${name}(NULL…): ok`,
            (error: unknown) => {
              const { code, message } = error as { code?: string; message: string };
              return `${name}(NULL…): ${code?.startsWith('AU') ? code : `${UNEXPECTED} ${code ?? ''} ${message}`}`;
            },
          ),
        );
      }
    } finally {
      await client.end();
    }
    const admin = await db.pool.connect();
    try {
      const record = await readShadowRecord(admin, SCHEMA);
      expect({ counted: record.counted, calls: record.calls }, `outcomes:\n${outcomes.join('\n')}`).toEqual({ counted: [], calls: [] });
    } finally {
      admin.release();
    }
    expect(outcomes.filter((o) => o.includes(UNEXPECTED))).toEqual([]);
    expect(outcomes.filter((o) => o.endsWith(': ok')).length).toBeGreaterThanOrEqual(5);
    expect(outcomes.filter((o) => / AU\d{3}$/.test(o)).length).toBeGreaterThanOrEqual(10);
  });
});
