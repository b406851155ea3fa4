/**
 * Settings of `npm run bench`, from the environment. Every default is sized
 * so that the whole run finishes in under 10 minutes on 2 cores.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Concurrency levels of the path comparison. Default is 1, 4 and 16. */
export const DEFAULT_CONCURRENCY: readonly number[] = [1, 4, 16];

/** Rounds of the interleaved path comparison (medians and spread are over rounds). Default is 3. */
export const DEFAULT_ROUNDS = 3;

/** Transactions per path, concurrency and round (divisible by every concurrency level). Default is 800. */
export const DEFAULT_TRANSACTIONS = 800;

/** Existing users of the scaling section. Default is 10 k, 100 k and 1 M. */
export const DEFAULT_SCALE_SIZES: readonly number[] = [10_000, 100_000, 1_000_000];

/** Operations per table size, operation and round of the scaling section. Default is 500. */
export const DEFAULT_SCALE_OPERATIONS = 500;

/** Sessions registering one address at once in the contention section. Default is 16 and 64. */
export const DEFAULT_CONTENTION_SESSIONS: readonly number[] = [16, 64];

/** Rounds of the CLI start-up section (each times every command once). Default is 9. */
export const DEFAULT_MIGRATION_REPEATS = 9;

/** Users of the purge section's databases. Default is 10 k and 100 k. */
export const DEFAULT_PURGE_SIZES: readonly number[] = [10_000, 100_000];

/** Sections `BENCH_ONLY` may name (comma-separated). Default is all of them. */
export const SECTIONS = ['paths', 'enumeration', 'scaling', 'contention', 'cli', 'migration', 'profile', 'input-bounds', 'purge'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchConfig {
  /** A superuser (or CREATEDB) URL of your own server; undefined: a dedicated embedded cluster. */
  readonly databaseUrl: string | undefined;
  readonly concurrency: readonly number[];
  readonly rounds: number;
  readonly transactions: number;
  readonly scaleSizes: readonly number[];
  readonly scaleOperations: number;
  readonly contentionSessions: readonly number[];
  readonly migrationRepeats: number;
  /** The CLI entry point the start-up section times (BENCH_CLI). Default is this checkout's dist/cli/main.js. */
  readonly cli: string | undefined;
  readonly purgeSizes: readonly number[];
  readonly sections: ReadonlySet<Section>;
  /** Where latest.json, latest.md and the chart go. Default is bench/results/ (committed). */
  readonly resultsDir: string;
  /** A full run into the default results directory: only such a run rewrites the README's Performance block. */
  readonly updatesReadme: boolean;
}

/** Default results directory: the committed bench/results/. */
export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Reads BENCH_* variables; throws naming the variable when one is malformed. */
export function benchConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const concurrency = list(env, 'BENCH_CONCURRENCY', DEFAULT_CONCURRENCY);
  const transactions = positive(env, 'BENCH_TRANSACTIONS', DEFAULT_TRANSACTIONS);
  for (const c of concurrency) {
    if (transactions % c !== 0) throw new Error(`BENCH_TRANSACTIONS: ${transactions} is not divisible by concurrency ${c} (BENCH_CONCURRENCY)`);
  }
  const only = sections(env.BENCH_ONLY);
  const resultsDir = env.BENCH_RESULTS_DIR || DEFAULT_RESULTS_DIR;
  return {
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    concurrency,
    rounds: positive(env, 'BENCH_ROUNDS', DEFAULT_ROUNDS),
    transactions,
    scaleSizes: list(env, 'BENCH_SCALE_SIZES', DEFAULT_SCALE_SIZES),
    scaleOperations: positive(env, 'BENCH_SCALE_OPS', DEFAULT_SCALE_OPERATIONS),
    contentionSessions: list(env, 'BENCH_CONTENTION_SESSIONS', DEFAULT_CONTENTION_SESSIONS),
    migrationRepeats: positive(env, 'BENCH_MIGRATION_REPEATS', DEFAULT_MIGRATION_REPEATS),
    cli: env.BENCH_CLI || undefined,
    purgeSizes: list(env, 'BENCH_PURGE_SIZES', DEFAULT_PURGE_SIZES),
    sections: only,
    resultsDir,
    updatesReadme: resolve(resultsDir) === resolve(DEFAULT_RESULTS_DIR) && only.size === SECTIONS.length && !env.BENCH_CLI,
  };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string, fallback: readonly number[]): readonly number[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw.split(',').map((part) => positive({ [name]: part.trim() }, name, 0));
}

function sections(raw: string | undefined): ReadonlySet<Section> {
  if (raw === undefined || raw === '') return new Set(SECTIONS);
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown section "${name}" (sections: ${SECTIONS.join(', ')})`);
  }
  return new Set(names as Section[]);
}
