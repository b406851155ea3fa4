/**
 * The same paths through the `pg` driver: each of `concurrency` sessions runs
 * its share of the operations with named (prepared) statements, as pgbench
 * does; plus the typed client against a bare `pg` call of the same function.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { createAuthDb } from '../src/client/create-auth-db.js';
import type { PathSpec } from './paths.js';
import type { RunMeasurement } from './pgbench.js';
import { PRECOMPUTED_PASSWORD_HASH, REGISTER_WITH_HASH_BARE } from './schema-sql.js';
import { warmPool } from './server.js';

interface Compiled {
  readonly name: string;
  readonly text: string;
  readonly variables: readonly string[];
}

/** `:name` (not `::type`) → `$n`, in order of first appearance. */
export function compile(statement: string, name: string): Compiled {
  const variables: string[] = [];
  const text = statement.replace(/(?<!:):([a-z_]+)/g, (_, variable: string) => {
    if (!variables.includes(variable)) variables.push(variable);
    return `$${variables.indexOf(variable) + 1}`;
  });
  return { name, text, variables };
}

interface Options {
  readonly tag: string;
  readonly concurrency: number;
  readonly transactions: number;
}

export async function runDriverPath(pool: pg.Pool, path: PathSpec, options: Options): Promise<RunMeasurement> {
  const statements = path.statements.map((s, i) => compile(s, `${path.id}.${i}`));
  const clients = await Promise.all(Array.from({ length: options.concurrency }, () => pool.connect()));
  try {
    return await timed(options, clients, async (client, slot) => {
      const variables: Record<string, string | number> = { tag: options.tag, slot };
      if (path.transaction) await client.query('BEGIN');
      let rowCount: number | null = 0;
      for (const [i, statement] of statements.entries()) {
        const result = await client.query({ name: statement.name, text: statement.text, values: statement.variables.map((v) => variables[v]) });
        if (i === path.gset) Object.assign(variables, result.rows[0]);
        rowCount = result.rowCount;
      }
      if (path.transaction) await client.query('COMMIT');
      if (rowCount !== 1) throw new Error(`${path.id}: operation ${slot} of ${options.tag} changed ${rowCount} rows, expected 1`);
    });
  } finally {
    for (const client of clients) client.release();
  }
}

/** The address EMAIL in schema-sql.ts computes for (tag, slot), computed here for the client rows. */
export function emailFor(tag: string, slot: number): string {
  return `${createHash('md5').update(`${tag}-${slot}`).digest('hex')}@bench.example`;
}

export async function runClientPath(pool: pg.Pool, id: 'client.bare' | 'client.registerUser', options: Options): Promise<RunMeasurement> {
  await warmPool(pool, options.concurrency);
  const authDb = createAuthDb({ connection: pool });
  const operation =
    id === 'client.bare'
      ? (slot: number) => pool.query(REGISTER_WITH_HASH_BARE, [emailFor(options.tag, slot), PRECOMPUTED_PASSWORD_HASH])
      : (slot: number) => authDb.registerUser({ email: emailFor(options.tag, slot), passwordHash: PRECOMPUTED_PASSWORD_HASH });
  return timed(
    options,
    Array.from({ length: options.concurrency }, () => undefined),
    async (_, slot) => {
      await operation(slot);
    },
  );
}

/** Runs session w on slots w·per+1 … w·per+per, all sessions at once; throughput over the whole run. */
async function timed<S>(options: Options, sessions: readonly S[], operation: (session: S, slot: number) => Promise<void>): Promise<RunMeasurement> {
  const perSession = options.transactions / options.concurrency;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    sessions.map(async (session, w) => {
      for (let k = 1; k <= perSession; k++) {
        const t0 = performance.now();
        await operation(session, w * perSession + k);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { opsPerSecond: options.transactions / ((performance.now() - started) / 1000), latencies };
}
