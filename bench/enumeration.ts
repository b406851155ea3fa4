/**
 * Does registerUser reveal whether an address is taken by how long it
 * takes? With a password, a confirmed address (AU001) should cost about as
 * much as a new one: the client hashes the password (argon2id) before the
 * database call on every path. Interleaved, concurrency 1.
 */
import { createAuthDb } from '../src/client/create-auth-db.js';
import { EmailAlreadyRegisteredError } from '../src/client/errors.js';
import { emailFor } from './driver.js';
import { RUN_ID, openPool } from './server.js';
import { latency, median, round, type Latency } from './stats.js';

/** argon2id registrations per path and round. Default is 30. */
export const DEFAULT_HASH_OPERATIONS = 30;

/** The password hashed on every call (a bench constant, not anyone's password). */
const PASSWORD = 'correct horse battery staple';

export interface EnumerationRow {
  readonly path: 'new address' | 'confirmed address (AU001)';
  readonly opsPerSecond: number;
  readonly latencyMs: Latency;
}

export interface Enumeration {
  readonly operationsPerRound: number;
  readonly rows: readonly EnumerationRow[];
  /** confirmed / new, median throughput: near 1.00 means no timing signal. */
  readonly ratio: number;
}

export async function measureEnumeration(url: string, rounds: number): Promise<Enumeration> {
  const pool = openPool(url, 1);
  const authDb = createAuthDb({ connection: pool });
  const n = DEFAULT_HASH_OPERATIONS;
  try {
    const taken = emailFor(`${RUN_ID}taken`, 1);
    await authDb.verifyEmail((await authDb.registerUser({ email: taken })).token);
    const paths = {
      'new address': (round: number, i: number) => authDb.registerUser({ email: emailFor(`${RUN_ID}pw${round}`, i), password: PASSWORD }),
      'confirmed address (AU001)': async () => {
        const outcome = await authDb.registerUser({ email: taken, password: PASSWORD }).catch((error: unknown) => error);
        if (!(outcome instanceof EmailAlreadyRegisteredError)) throw new Error(`expected AU001, got ${String(outcome)}`);
      },
    } as const;
    const measured = new Map<string, { ops: number[]; latencies: number[] }>();
    for (let r = 0; r < rounds; r++) {
      for (const [path, operation] of Object.entries(paths)) {
        const entry = measured.get(path) ?? { ops: [], latencies: [] };
        const started = performance.now();
        for (let i = 1; i <= n; i++) {
          const t0 = performance.now();
          await operation(r, i);
          entry.latencies.push(performance.now() - t0);
        }
        entry.ops.push(n / ((performance.now() - started) / 1000));
        measured.set(path, entry);
      }
    }
    const rows = Object.keys(paths).map((path) => {
      const entry = measured.get(path) ?? { ops: [], latencies: [] };
      const l = latency(entry.latencies);
      return { path: path as EnumerationRow['path'], opsPerSecond: round(median(entry.ops)), latencyMs: { p50: round(l.p50), p99: round(l.p99) } };
    });
    return { operationsPerRound: n, rows, ratio: round((rows[1]?.opsPerSecond ?? Number.NaN) / (rows[0]?.opsPerSecond ?? Number.NaN)) };
  } finally {
    await authDb.destroy();
    await pool.end();
  }
}
