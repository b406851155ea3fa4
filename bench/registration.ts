/**
 * `npm run bench`: throughput and latency of authdb's registration functions,
 * against the two-step application-side registration they replace, measured
 * in the same run on the same server (ratios are what to compare across
 * machines, not absolute numbers).
 *
 * Server: BENCH_DATABASE_URL (a database the bench may create databases on),
 * else a throwaway embedded cluster with default durability settings.
 * Size: BENCH_OPS operations per scenario and concurrency (default 2000);
 * BENCH_HASH_OPS for the argon2id rows (default 100).
 *
 * The second table answers "does registerUser reveal whether an address is
 * taken by how long it takes?": with a password, a confirmed address (AU001)
 * should cost about as much as a new one, because the password is hashed
 * before the database call on every path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createAuthDb } from '../src/client/create-auth-db.js';
import { EmailAlreadyRegisteredError } from '../src/client/errors.js';
import { EmbeddedCluster } from '../src/embedded/cluster.js';
import { Migrator } from '../src/migrate/migrator.js';

interface Scenario {
  readonly name: string;
  /** Runs once before timing; returns the operation to time, given its index. */
  prepare(pool: pg.Pool, ops: number, tag: string): Promise<(i: number) => Promise<unknown>>;
}

interface Result {
  readonly scenario: string;
  readonly concurrency: number;
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p95: number;
}

const OPS = Number(process.env.BENCH_OPS ?? 2000);
const HASH_OPS = Number(process.env.BENCH_HASH_OPS ?? 100);
const CONCURRENCY = [1, 8];
const BASELINE = 'two-step insert (app side, 1 tx)';
const NEW_WITH_PASSWORD = 'registerUser({ password }), new email';
const run = randomBytes(3).toString('hex');

const scenarios: readonly Scenario[] = [
  {
    name: BASELINE,
    prepare: (p, _ops, tag) => Promise.resolve((i: number) => twoStepRegistration(p, `base-${tag}-${i}@example.com`)),
  },
  {
    name: 'register_user_with_token (new email)',
    prepare: (p, _ops, tag) => Promise.resolve((i: number) => p.query('SELECT * FROM register_user_with_token($1)', [`new-${tag}-${i}@example.com`])),
  },
  {
    name: 'register_user_with_token (reissue)',
    prepare: async (p, ops, tag) => {
      const emails = Array.from({ length: ops }, (_, i) => `re-${tag}-${i}@example.com`);
      await p.query('SELECT register_user_with_token(e) FROM unnest($1::text[]) AS e', [emails]);
      return (i) => p.query(`SELECT * FROM register_user_with_token($1, p_min_resend_interval => '1 microsecond')`, [emails[i]]);
    },
  },
  {
    name: 'verify_email',
    prepare: async (p, ops, tag) => {
      const { rows } = await p.query<{ token: string }>(
        'SELECT (register_user_with_token(e)).token FROM unnest($1::text[]) AS e',
        [Array.from({ length: ops }, (_, i) => `ver-${tag}-${i}@example.com`)],
      );
      return (i) => p.query('SELECT verify_email($1)', [rows[i]?.token]);
    },
  },
];

/** The client with a password: a new address, and one that is registered and confirmed (AU001). */
const enumerationScenarios: readonly Scenario[] = [
  {
    name: NEW_WITH_PASSWORD,
    prepare: (p, _ops, tag) => {
      const authDb = createAuthDb({ connection: p });
      return Promise.resolve((i: number) => authDb.registerUser({ email: `pw-${tag}-${i}@example.com`, password: 'correct horse battery staple' }));
    },
  },
  {
    name: 'registerUser({ password }), confirmed email (AU001)',
    prepare: async (p, _ops, tag) => {
      const authDb = createAuthDb({ connection: p });
      const email = `taken-${tag}@example.com`;
      await authDb.verifyEmail((await authDb.registerUser({ email })).token);
      return async () => {
        const outcome = await authDb.registerUser({ email, password: 'correct horse battery staple' }).catch((error: unknown) => error);
        if (!(outcome instanceof EmailAlreadyRegisteredError)) throw new Error(`expected AU001, got ${String(outcome)}`);
      };
    },
  },
];

/** What applications did before authdb: two INSERTs from the app, in one transaction. */
async function twoStepRegistration(p: pg.Pool, email: string): Promise<void> {
  const client = await p.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO users (id, email, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id`,
      [email],
    );
    const token = randomBytes(32).toString('base64url');
    await client.query(
      `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at) VALUES ($1, $2, 'user', now() + interval '24 hours')`,
      [rows[0]?.id, createHash('sha256').update(token).digest()],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function measure(scenario: Scenario, p: pg.Pool, concurrency: number, ops = OPS): Promise<Result> {
  const op = await scenario.prepare(p, ops, `${run}-c${concurrency}`);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) {
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { scenario: scenario.name, concurrency, ops, opsPerSecond: ops / seconds, p50: at(0.5), p95: at(0.95) };
}

function printTable(results: readonly Result[], baseline: string): void {
  const header = ['scenario', 'conc.', 'ops', 'ops/s', 'p50 ms', 'p95 ms', 'vs baseline'];
  const rows = results.map((r) => {
    const base = results.find((b) => b.scenario === baseline && b.concurrency === r.concurrency);
    const ratio = base ? `${(r.opsPerSecond / base.opsPerSecond).toFixed(2)}x` : '-';
    return [r.scenario, String(r.concurrency), String(r.ops), r.opsPerSecond.toFixed(0), r.p50.toFixed(2), r.p95.toFixed(2), ratio];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]?.length ?? 0)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, c) => (c === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function withServer<T>(work: (adminUrl: string) => Promise<T>): Promise<T> {
  if (process.env.BENCH_DATABASE_URL) return work(process.env.BENCH_DATABASE_URL);
  const dir = await mkdtemp(join(tmpdir(), 'authdb-bench-'));
  const cluster = new EmbeddedCluster({ dir, settings: { max_connections: '100' } });
  try {
    await cluster.initialise();
    await cluster.start();
    return await work(await cluster.superuserUrl());
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await withServer(async (adminUrl) => {
    const database = `authdb_bench_${run}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    try {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      await new Migrator({ client }).up();
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      await client.end();
      console.log(`authdb bench: PostgreSQL ${rows[0]?.server_version ?? '?'}, ${OPS} operations per row, Node ${process.version}\n`);
      const results: Result[] = [];
      for (const concurrency of CONCURRENCY) {
        const pool = new pg.Pool({ connectionString: url.toString(), max: concurrency });
        pool.on('error', () => undefined); // sockets still closing when DROP DATABASE … WITH (FORCE) runs
        try {
          for (const scenario of scenarios) results.push(await measure(scenario, pool, concurrency));
        } finally {
          await pool.end();
        }
      }
      printTable(results, BASELINE);

      console.log(`\nregisterUser with a password (argon2id, ${HASH_OPS} operations per row): the ratio should stay near 1.00x\n`);
      const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
      pool.on('error', () => undefined);
      try {
        const hashed: Result[] = [];
        for (const scenario of enumerationScenarios) hashed.push(await measure(scenario, pool, 1, HASH_OPS));
        printTable(hashed, NEW_WITH_PASSWORD);
      } finally {
        await pool.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  });
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
