/**
 * Section 2: latency against table size. One database per size, bulk-loaded
 * with that many unconfirmed users (and their tokens); the rounds visit the
 * sizes in turn, so drift spreads over all of them. Registration (new
 * address) and verification run through the `pg` driver at concurrency 1,
 * so latency is the server's work per call, not queueing.
 */
import { runDriverPath } from './driver.js';
import { bulkLoad } from './fixtures.js';
import { SQL_PATHS, type PathSpec } from './paths.js';
import { COUNT_USERS } from './schema-sql.js';
import { RUN_ID, migrate, openPool, withAdmin, type BenchServer } from './server.js';
import { latency, round, spread, type Latency, type Spread } from './stats.js';

/** Sessions of the scaling runs. Default is 1. */
export const DEFAULT_SCALE_CONCURRENCY = 1;

/** Tag of the rows that make up a database's size. */
const SIZE_TAG = `${RUN_ID}s`;

export interface ScalingRow {
  /** Users loaded before the measurements. */
  readonly existingUsers: number;
  /** Users at the end (loaded + registered by the bench + verify fixtures). */
  readonly usersAtEnd: number;
  readonly loadSeconds: number;
  readonly operation: 'register' | 'verify';
  readonly opsPerSecond: Spread;
  readonly latencyMs: Latency;
}

export interface Scaling {
  readonly concurrency: number;
  readonly operationsPerRound: number;
  readonly rounds: number;
  readonly rows: readonly ScalingRow[];
  /** p99 at the largest size / p99 at the smallest, per operation (issue target ≤ 1.3). */
  readonly p99Ratio: Readonly<Record<'register' | 'verify', number>>;
  /** The URL of the largest database, for the plans; dropped with the others at the end. */
  readonly largestUrl: string;
  readonly largestTag: string;
}

interface Options {
  readonly server: BenchServer;
  readonly sizes: readonly number[];
  readonly operations: number;
  readonly rounds: number;
  readonly log: (line: string) => void;
}

const OPERATIONS = { register: spec('register.function'), verify: spec('verify.function') } as const;

export async function measureScaling(options: Options): Promise<Scaling> {
  const databases: { size: number; url: string; loadSeconds: number }[] = [];
  for (const size of options.sizes) {
    const url = await options.server.createDatabase(`s${size}`);
    await migrate(url);
    const started = performance.now();
    await withAdmin(url, (client) =>
      bulkLoad(client, [
        { tag: SIZE_TAG, count: size },
        ...Array.from({ length: options.rounds }, (_, r) => ({ tag: verifyTag(r), count: options.operations })),
      ]),
    );
    const loadSeconds = (performance.now() - started) / 1000;
    options.log(`  ${size} users loaded in ${loadSeconds.toFixed(1)} s`);
    databases.push({ size, url, loadSeconds });
  }

  const runs = new Map<string, { opsPerSecond: number; latencies: readonly number[] }[]>();
  for (let r = 0; r < options.rounds; r++) {
    for (const { size, url } of databases) {
      const pool = openPool(url, DEFAULT_SCALE_CONCURRENCY);
      try {
        for (const [operation, path] of Object.entries(OPERATIONS)) {
          const tag = operation === 'register' ? `${RUN_ID}n${r}` : verifyTag(r);
          const result = await runDriverPath(pool, path, { tag, concurrency: DEFAULT_SCALE_CONCURRENCY, transactions: options.operations });
          const key = `${size}|${operation}`;
          runs.set(key, [...(runs.get(key) ?? []), result]);
        }
      } finally {
        await pool.end();
      }
    }
    options.log(`  round ${r + 1}/${options.rounds}: done`);
  }

  const rows: ScalingRow[] = [];
  for (const { size, url, loadSeconds } of databases) {
    const usersAtEnd = await withAdmin(url, async (c) => Number((await c.query<{ n: string }>(COUNT_USERS)).rows[0]?.n));
    for (const operation of ['register', 'verify'] as const) {
      const measured = runs.get(`${size}|${operation}`) ?? [];
      const s = spread(measured.map((m) => m.opsPerSecond));
      const l = latency(measured.flatMap((m) => m.latencies));
      rows.push({
        existingUsers: size,
        usersAtEnd,
        loadSeconds: round(loadSeconds),
        operation,
        opsPerSecond: { median: round(s.median), min: round(s.min), max: round(s.max) },
        latencyMs: { p50: round(l.p50), p99: round(l.p99) },
      });
    }
  }
  const smallest = Math.min(...options.sizes);
  const largest = Math.max(...options.sizes);
  const p99 = (size: number, operation: string): number => rows.find((r) => r.existingUsers === size && r.operation === operation)?.latencyMs.p99 ?? Number.NaN;
  return {
    concurrency: DEFAULT_SCALE_CONCURRENCY,
    operationsPerRound: options.operations,
    rounds: options.rounds,
    rows,
    p99Ratio: { register: round(p99(largest, 'register') / p99(smallest, 'register')), verify: round(p99(largest, 'verify') / p99(smallest, 'verify')) },
    largestUrl: databases.find((d) => d.size === largest)?.url ?? '',
    largestTag: SIZE_TAG,
  };
}

function verifyTag(r: number): string {
  return `${RUN_ID}v${r}`;
}

function spec(id: string): PathSpec {
  const found = SQL_PATHS.find((p) => p.id === id);
  if (!found) throw new Error(`no path ${id}`);
  return found;
}
