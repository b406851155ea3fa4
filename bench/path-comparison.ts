/**
 * Section 1: floors and paths interleaved in one run. Every round runs every
 * (runner, path) once at every concurrency, in an order rotated from round to
 * round, so drift of a shared machine spreads over all paths alike.
 */
import type pg from 'pg';
import { runClientPath, runDriverPath } from './driver.js';
import { bulkLoad } from './fixtures.js';
import { CLIENT_PATHS, RATIOS, SQL_PATHS, type PathSpec, type Runner } from './paths.js';
import { runPgbench, type RunMeasurement } from './pgbench.js';
import type { Program } from './programs.js';
import { EFFECT_COUNT } from './schema-sql.js';
import { RUN_ID, openPool, withAdmin } from './server.js';
import { latency, round, spread, type Latency, type Spread } from './stats.js';

export interface PathRow {
  readonly runner: Runner;
  readonly path: string;
  readonly label: string;
  readonly concurrency: number;
  /** Operations per second: median and spread over rounds. */
  readonly opsPerSecond: Spread;
  /** Pooled over rounds, in milliseconds. */
  readonly latencyMs: Latency;
  readonly roundsOpsPerSecond: readonly number[];
}

export interface RatioRow {
  readonly name: string;
  readonly runner: Runner;
  readonly concurrency: number;
  /** Ratio of median throughputs. */
  readonly ratio: number;
  /** Lowest and highest ratio of one round's pair (same round, adjacent in time). */
  readonly roundRange: readonly [number, number];
  readonly target: number | undefined;
  readonly met: boolean | undefined;
}

export interface PathComparison {
  readonly pgbench: string | undefined;
  readonly transactionsPerRun: number;
  readonly rounds: number;
  readonly rows: readonly PathRow[];
  readonly ratios: readonly RatioRow[];
}

interface Job {
  readonly runner: Runner;
  readonly id: string;
  readonly label: string;
  readonly spec: PathSpec | undefined;
}

interface Options {
  readonly url: string;
  readonly pgbench: Program | undefined;
  readonly concurrency: readonly number[];
  readonly rounds: number;
  readonly transactions: number;
  readonly log: (line: string) => void;
}

export async function comparePaths(options: Options): Promise<PathComparison> {
  const runners: readonly Runner[] = options.pgbench ? ['pgbench', 'pg'] : ['pg'];
  const jobs: Job[] = [
    ...runners.flatMap((runner) => SQL_PATHS.map((spec) => ({ runner, id: spec.id, label: spec.label, spec }))),
    ...CLIENT_PATHS.map(({ id, label }) => ({ runner: 'pg' as const, id, label, spec: undefined })),
  ];
  const tagOf = (job: Job, c: number, r: number): string => `${RUN_ID}${job.runner === 'pg' ? 'd' : 'b'}${jobs.indexOf(job)}c${c}r${r}`;

  // Fresh fixtures for every run: a reissue run issues one more token per user, and a user
  // gets at most 5 usable tokens (AU013 after that), so users are not reused across runs.
  options.log(`  loading fixtures (users for every reissue run; tokens for every verify run)`);
  await withAdmin(options.url, (client) =>
    bulkLoad(
      client,
      jobs.flatMap((job) => {
        if (job.spec?.fixture === 'users' || job.spec?.fixture === 'tokens') {
          return options.concurrency.flatMap((c) => range(options.rounds).map((r) => ({ tag: tagOf(job, c, r), count: options.transactions })));
        }
        return [];
      }),
    ),
  );

  const measured = new Map<string, RunMeasurement[]>();
  const pools = new Map(options.concurrency.map((c) => [c, openPool(options.url, c)]));
  const counter = openPool(options.url, 1);
  try {
    for (const r of range(options.rounds)) {
      const order = rotate(jobs, r * 5);
      for (const c of options.concurrency) {
        for (const job of order) {
          const result = await runJob(job, { url: options.url, pgbench: options.pgbench, transactions: options.transactions, tag: tagOf(job, c, r), concurrency: c, pool: pools.get(c), counter });
          const key = `${job.runner}|${job.id}|${c}`;
          measured.set(key, [...(measured.get(key) ?? []), result]);
        }
        options.log(`  round ${r + 1}/${options.rounds}, concurrency ${c}: done`);
      }
    }
  } finally {
    await Promise.all([...pools.values(), counter].map((pool) => pool.end()));
  }

  const rows: PathRow[] = jobs.flatMap((job) =>
    options.concurrency.map((c) => {
      const runs = measured.get(`${job.runner}|${job.id}|${c}`) ?? [];
      const perRound = runs.map((m) => m.opsPerSecond);
      const s = spread(perRound);
      const l = latency(runs.flatMap((m) => m.latencies));
      return {
        runner: job.runner,
        path: job.id,
        label: job.label,
        concurrency: c,
        opsPerSecond: { median: round(s.median), min: round(s.min), max: round(s.max) },
        latencyMs: { p50: round(l.p50), p99: round(l.p99) },
        roundsOpsPerSecond: perRound.map((v) => round(v)),
      };
    }),
  );
  return { pgbench: options.pgbench?.version, transactionsPerRun: options.transactions, rounds: options.rounds, rows, ratios: ratios(rows, options.concurrency) };
}

async function runJob(
  job: Job,
  options: {
    readonly url: string;
    readonly pgbench: Program | undefined;
    readonly transactions: number;
    readonly tag: string;
    readonly concurrency: number;
    readonly pool: pg.Pool | undefined;
    readonly counter: pg.Pool;
  },
): Promise<RunMeasurement> {
  const { pool, tag, concurrency, transactions } = options;
  if (pool === undefined) throw new Error(`no pool for concurrency ${concurrency}`);
  if (job.spec === undefined) return runClientPath(pool, job.id as 'client.bare' | 'client.registerUser', { tag, concurrency, transactions });
  const spec = job.spec;
  const count = async (): Promise<number> => Number((await options.counter.query<{ n: string }>(EFFECT_COUNT[spec.fixture])).rows[0]?.n);
  const before = await count();
  const result =
    job.runner === 'pgbench' && options.pgbench
      ? await runPgbench(options.pgbench, options.url, spec, { tag, concurrency, transactions })
      : await runDriverPath(pool, spec, { tag, concurrency, transactions });
  const changed = (await count()) - before;
  if (changed !== transactions) throw new Error(`${job.runner} ${spec.id} (c=${concurrency}): ${changed} rows changed, expected ${transactions}`);
  return result;
}

function ratios(rows: readonly PathRow[], concurrency: readonly number[]): RatioRow[] {
  const find = (runner: Runner, path: string, c: number): PathRow | undefined =>
    rows.find((row) => row.runner === runner && row.path === path && row.concurrency === c);
  return RATIOS.flatMap((spec) =>
    concurrency.flatMap((c) => {
      const a = find(spec.runner, spec.numerator, c);
      const b = find(spec.runner, spec.denominator, c);
      if (!a || !b) return [];
      const ratio = a.opsPerSecond.median / b.opsPerSecond.median;
      const perRound = a.roundsOpsPerSecond.map((v, i) => v / (b.roundsOpsPerSecond[i] ?? Number.NaN));
      const target = spec.target[c];
      return [
        {
          name: spec.name,
          runner: spec.runner,
          concurrency: c,
          ratio: round(ratio),
          roundRange: [round(Math.min(...perRound)), round(Math.max(...perRound))] as const,
          target,
          met: target === undefined ? undefined : ratio >= target,
        },
      ];
    }),
  );
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
