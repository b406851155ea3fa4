// Concurrency: many real sessions (separate connections, separate backends)
// racing on one e-mail address or one token. Never a raw 23505, 23503 or
// deadlock (40P01); exactly one winner where there must be one.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import {
  backdate,
  closeAll,
  connectMany,
  count,
  partition,
  register,
  releaseTogether,
  resend,
  single,
  tokensOf,
  uniqueEmail,
  userByEmail,
  userById,
  verify,
  type Registration,
} from './helpers.js';

const SESSIONS = 64;
/** The bound on usable (unexpired, unused) tokens per user: a sixth is refused (AU013), none revoked. */
const MAX_OUTSTANDING = 5;

let db: TestDatabase;
let clients: pg.Client[];
let gate: pg.Client;

beforeAll(async () => {
  db = await createMigratedDatabase();
  [gate, ...clients] = (await connectMany(db.url, SESSIONS + 1)) as [pg.Client, ...pg.Client[]];
});

afterAll(async () => {
  await closeAll([gate, ...clients]);
  await db.close();
});

function outcomes(results: readonly PromiseSettledResult<Registration>[]): { created: Registration[]; reissued: Registration[]; errors: Map<string, number> } {
  const { values, errors } = partition(results);
  return {
    created: values.filter((r) => r.outcome === 'created'),
    reissued: values.filter((r) => r.outcome === 'reissued'),
    errors,
  };
}

/** After any storm: one user, every token issued still outstanding (none revoked), at most the bound. */
async function expectConsistent(email: string, issued: number): Promise<string> {
  const user = await userByEmail(db.pool, email);
  if (!user) throw new Error(`no user ${email}`);
  const tokens = await tokensOf(db.pool, user.id);
  expect(tokens).toHaveLength(issued);
  expect(issued).toBeLessThanOrEqual(MAX_OUTSTANDING);
  const outstanding = tokens.filter((t) => t.consumed_at === null && t.revoked_at === null);
  expect(outstanding).toEqual(tokens);
  expect(await count(db.pool, 'users WHERE email = $1', [email])).toBe(1);
  return user.id;
}

describe(`${SESSIONS} sessions registering one new address at the same instant`, () => {
  it("default interval: exactly one 'created', every other session AU008", async () => {
    const email = uniqueEmail('race');
    const results = await releaseTogether(gate, clients, (client) => register(client, email, { passwordHash: 'h' }));
    const { created, reissued, errors } = outcomes(results);

    expect(created).toHaveLength(1);
    expect([...errors.keys()].filter((code) => code !== 'AU008')).toEqual([]);
    expect(reissued.length + (errors.get('AU008') ?? 0)).toBe(SESSIONS - 1);
    await expectConsistent(email, 1 + reissued.length);
  });

  it("1 µs interval: exactly one 'created', the rest 'reissued', AU008 or AU013 (bound), and exactly one token verifies", async () => {
    const email = uniqueEmail('race-reissue');
    const results = await releaseTogether(gate, clients, (client) =>
      register(client, email, { passwordHash: 'h', minResendInterval: '1 microsecond' }),
    );
    const { created, reissued, errors } = outcomes(results);

    expect(created).toHaveLength(1);
    expect([...errors.keys()].filter((code) => code !== 'AU008' && code !== 'AU013')).toEqual([]);
    expect(created.length + reissued.length + (errors.get('AU008') ?? 0) + (errors.get('AU013') ?? 0)).toBe(SESSIONS);
    const userId = await expectConsistent(email, 1 + reissued.length);
    expect(new Set([...created, ...reissued].map((r) => r.user_id))).toEqual(new Set([userId]));

    // Exactly one of the returned tokens is still valid.
    let verified = 0;
    for (const { token } of [...created, ...reissued]) {
      try {
        expect(await verify(db.pool, token)).toBe(userId);
        verified += 1;
      } catch (error) {
        expect((error as pg.DatabaseError).code).toBe('AU012');
      }
    }
    expect(verified).toBe(1);
  });

  it(`'0 seconds' interval (no throttle): exactly one 'created', ${MAX_OUTSTANDING - 1} 'reissued', every other session AU013`, async () => {
    const email = uniqueEmail('race-no-throttle');
    const results = await releaseTogether(gate, clients, (client) =>
      register(client, email, { passwordHash: 'h', minResendInterval: '0 seconds' }),
    );
    const { created, reissued, errors } = outcomes(results);
    expect(errors).toEqual(new Map([['AU013', SESSIONS - MAX_OUTSTANDING]]));
    expect(created).toHaveLength(1);
    expect(reissued).toHaveLength(MAX_OUTSTANDING - 1);
    await expectConsistent(email, MAX_OUTSTANDING);
  });

  it(`${SESSIONS} different addresses at once are all created`, async () => {
    const emails = clients.map(() => uniqueEmail('parallel'));
    const results = await releaseTogether(gate, clients, (client, i) => register(client, emails[i] ?? 'missing'));
    const { created, errors } = outcomes(results);
    expect(errors).toEqual(new Map());
    expect(created).toHaveLength(SESSIONS);
  });
});

describe('sessions queued behind an uncommitted registration of the same address', () => {
  const WAITERS = 50;

  /** Starts a registration in an open transaction, queues WAITERS sessions behind it, then ends it. */
  async function queueBehind(email: string, end: 'COMMIT' | 'ROLLBACK'): Promise<PromiseSettledResult<Registration>[]> {
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await register(blocker, email, { passwordHash: 'blocker' });
      const runs = Promise.allSettled(
        clients.slice(0, WAITERS).map((client) => register(client, email, { passwordHash: 'waiter', minResendInterval: '1 microsecond' })),
      );
      // Every waiter is blocked in INSERT ... ON CONFLICT on the blocker's uncommitted row.
      for (const deadline = Date.now() + 20_000; ; ) {
        if (Date.now() > deadline) throw new Error(`not all ${WAITERS} sessions queued behind the blocker`);
        const { rows } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%register_user_with_token%'`,
        );
        if (Number(single(rows).n) === WAITERS) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await blocker.query(end);
      return await runs;
    } finally {
      blocker.release();
    }
  }

  it("commit: every waiter ends 'reissued', AU008 or AU013 (at least one reissue), never 23505", async () => {
    const email = uniqueEmail('queued');
    const { created, reissued, errors } = outcomes(await queueBehind(email, 'COMMIT'));
    expect(created).toEqual([]);
    expect([...errors.keys()].filter((code) => code !== 'AU008' && code !== 'AU013')).toEqual([]);
    expect(reissued.length).toBeGreaterThanOrEqual(1);
    expect(reissued.length + (errors.get('AU008') ?? 0) + (errors.get('AU013') ?? 0)).toBe(WAITERS);
    await expectConsistent(email, 1 + reissued.length);
  });

  it("rollback: one waiter takes over and creates the user, the rest 'reissued', AU008 or AU013", async () => {
    const email = uniqueEmail('queued-rollback');
    const { created, reissued, errors } = outcomes(await queueBehind(email, 'ROLLBACK'));
    expect(created).toHaveLength(1);
    expect([...errors.keys()].filter((code) => code !== 'AU008' && code !== 'AU013')).toEqual([]);
    expect(created.length + reissued.length + (errors.get('AU008') ?? 0) + (errors.get('AU013') ?? 0)).toBe(WAITERS);
    const userId = await expectConsistent(email, 1 + reissued.length);
    // The blocker's registration was rolled back with it.
    expect((await tokensOf(db.pool, userId)).map((t) => t.password_hash)).toEqual(Array.from({ length: 1 + reissued.length }, () => 'waiter'));
    expect((await userById(db.pool, userId)).password_hash).toBeNull();
  });
});

describe('verify_email under concurrency', () => {
  it('20 sessions verifying one token: exactly one gets the user id, the others AU012', async () => {
    const reg = await register(db.pool, uniqueEmail('single-use'));
    const results = await releaseTogether(gate, clients.slice(0, 20), (client) => verify(client, reg.token));
    const { values, errors } = partition(results);
    expect(values).toEqual([reg.user_id]);
    expect(errors).toEqual(new Map([['AU012', 19]]));
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1 AND consumed_at IS NOT NULL', [reg.user_id])).toBe(1);
  });

  it('verify, register and resend racing on one user never deadlock and leave a consistent state', async () => {
    const email = uniqueEmail('storm');
    const reg = await register(db.pool, email, { passwordHash: 'original' });
    await backdate(db.pool, reg.user_id, '2 minutes');

    type Outcome = { kind: 'verify'; userId: string } | { kind: 'register'; outcome: string } | { kind: 'resend' };
    const results = await releaseTogether(gate, clients, async (client, i): Promise<Outcome> => {
      switch (i % 3) {
        case 0:
          return { kind: 'verify', userId: await verify(client, reg.token) };
        case 1:
          return { kind: 'register', outcome: (await register(client, email, { passwordHash: `h${i}`, minResendInterval: '1 microsecond' })).outcome };
        default:
          await resend(client, email, { minResendInterval: '1 microsecond' });
          return { kind: 'resend' };
      }
    });

    const { values, errors } = partition(results);
    // Only the documented outcomes: no 23505, 23503, 40P01 or anything else.
    expect([...errors.keys()].filter((code) => !['AU001', 'AU008', 'AU012', 'AU013'].includes(code))).toEqual([]);
    expect(values.filter((v) => v.kind === 'register' && v.outcome !== 'reissued')).toEqual([]);

    // Nothing pushes the original token out: exactly one verification wins;
    // verified without the registration secret, it set no carried password.
    const verified = values.filter((v) => v.kind === 'verify');
    expect(verified).toHaveLength(1);
    const user = await userById(db.pool, reg.user_id);
    const tokens = await tokensOf(db.pool, reg.user_id);
    expect(user.email_confirmed_at).not.toBeNull();
    expect(user.password_hash).toBeNull();
    expect(tokens.filter((t) => t.consumed_at === null && t.revoked_at === null)).toEqual([]);
    expect(tokens.filter((t) => t.consumed_at !== null)).toHaveLength(1);
    expect(tokens.length).toBeLessThanOrEqual(MAX_OUTSTANDING);
  });
});
