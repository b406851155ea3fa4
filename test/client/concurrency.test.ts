// Concurrent registerUser calls for one address through one pool: the SQL
// contract says exactly one 'created', every other call 'reissued',
// ResendTooSoonError or TooManyOutstandingTokensError, one user, at most 5 outstanding tokens (a sixth refused, none revoked) —
// and once one verifies, no other does.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, ResendTooSoonError, TokenAlreadyUsedError, TooManyOutstandingTokensError, type AuthDb, type RegisteredUser } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { uniqueEmail } from './helpers.js';

const CALLS = 24;

let db: TestDatabase;
let pool: pg.Pool;
let authDb: AuthDb;

beforeAll(async () => {
  db = await createMigratedDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: CALLS });
  authDb = createAuthDb({ connection: pool });
});

afterAll(async () => {
  await pool.end();
  await db.close();
});

/** Spellings of one address that all normalise to it. */
function spellings(email: string): string[] {
  return Array.from({ length: CALLS }, (_, i) => (i % 3 === 0 ? email : i % 3 === 1 ? email.toUpperCase() : `  ${email}\t`));
}

async function settle(
  calls: readonly Promise<RegisteredUser>[],
): Promise<{ created: RegisteredUser[]; reissued: RegisteredUser[]; tooSoon: unknown[]; atBound: unknown[]; other: unknown[] }> {
  const results = await Promise.allSettled(calls);
  const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  return {
    created: values.filter((v) => v.outcome === 'created'),
    reissued: values.filter((v) => v.outcome === 'reissued'),
    tooSoon: errors.filter((e) => e instanceof ResendTooSoonError),
    atBound: errors.filter((e) => e instanceof TooManyOutstandingTokensError),
    other: errors.filter((e) => !(e instanceof ResendTooSoonError) && !(e instanceof TooManyOutstandingTokensError)),
  };
}

async function usersWithEmail(email: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
  return rows[0]?.n ?? -1;
}

describe('concurrent registerUser for one address', () => {
  it('default resend interval: exactly one created, every other call ResendTooSoonError', async () => {
    const email = uniqueEmail('race');
    const { created, reissued, tooSoon, other } = await settle(spellings(email).map((spelling) => authDb.registerUser({ email: spelling, password: 'pw' })));
    expect(other).toEqual([]);
    expect(created).toHaveLength(1);
    expect(reissued).toHaveLength(0);
    expect(tooSoon).toHaveLength(CALLS - 1);
    expect(await usersWithEmail(email)).toBe(1);
    const [winner] = created;
    expect(await authDb.listOutstandingTokens(winner?.userId ?? '')).toHaveLength(1);
    expect(await authDb.verifyEmail(winner?.token ?? '')).toEqual({ userId: winner?.userId });
  });

  it('tiny resend interval: one created, the rest reissued, too soon or at the bound; at most 5 tokens, all outstanding, and only one verifies', async () => {
    const email = uniqueEmail('race');
    const { created, reissued, tooSoon, atBound, other } = await settle(spellings(email).map((spelling) => authDb.registerUser({ email: spelling, minResendInterval: 1 })));
    expect(other).toEqual([]);
    expect(created).toHaveLength(1);
    expect(created.length + reissued.length + tooSoon.length + atBound.length).toBe(CALLS);
    expect(created.length + reissued.length).toBeLessThanOrEqual(5);
    expect(await usersWithEmail(email)).toBe(1);
    const issued = [...created, ...reissued];
    expect(new Set(issued.map((r) => r.userId)).size).toBe(1);
    const userId = created[0]?.userId ?? '';
    const outstanding = await authDb.listOutstandingTokens(userId);
    expect(outstanding).toHaveLength(issued.length);

    const verifications = await Promise.allSettled(issued.map((r) => authDb.verifyEmail(r.token)));
    const verified = verifications.filter((v) => v.status === 'fulfilled');
    const refused = verifications.flatMap((v) => (v.status === 'rejected' ? [v.reason as unknown] : []));
    expect(verified).toHaveLength(1);
    // The one that verified was one of the outstanding tokens.
    const winner = issued[verifications.findIndex((v) => v.status === 'fulfilled')];
    expect(outstanding.map((t) => t.expiresAt.getTime())).toContain(winner?.expiresAt.getTime());
    expect(refused).toHaveLength(issued.length - 1);
    expect(refused.every((e) => e instanceof TokenAlreadyUsedError)).toBe(true);
    expect(await authDb.listOutstandingTokens(userId)).toEqual([]);
  });
});
