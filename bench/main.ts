/**
 * `npm run bench`: authdb's registration functions against the server's own
 * floor and the application-side paths they replace, in one run on one
 * server; scaling to a million users; contention on one address; migration
 * timing. Ratios are what to compare across machines, not absolute numbers.
 *
 * Server: BENCH_DATABASE_URL (a superuser URL: the bench creates and drops
 * its databases), else a dedicated embedded cluster. Sizes: see config.ts
 * (BENCH_ROUNDS, BENCH_TRANSACTIONS, BENCH_CONCURRENCY, BENCH_SCALE_SIZES,
 * BENCH_SCALE_OPS, BENCH_CONTENTION_SESSIONS, BENCH_MIGRATION_REPEATS,
 * BENCH_ONLY=paths,scaling,contention,migration,profile).
 * Results: bench/results/latest.json, latest.md and latest.svg.
 */
import { benchConfig } from './config.js';
import { comparePaths } from './path-comparison.js';
import { findProgram } from './programs.js';
import { migrate, withAdmin, withServer } from './server.js';

const log = (line: string): void => {
  console.log(line);
};

async function main(): Promise<void> {
  const config = benchConfig(process.env);
  const started = performance.now();
  const pgbench = await findProgram('pgbench');
  log(pgbench ? `pgbench: ${pgbench.path} (${pgbench.version})` : 'pgbench: not found (no Debian postgresql package, not on PATH): the pgbench rows are skipped');
  await withServer(config.databaseUrl, async (server) => {
    const serverVersion = await withAdmin(server.adminUrl, async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?');
    log(`server: PostgreSQL ${serverVersion} (${server.kind}); Node ${process.version}`);
    if (config.sections.has('paths')) {
      log('\n== 1. floors and paths');
      const url = await server.createDatabase('paths');
      await migrate(url);
      const result = await comparePaths({ url, pgbench, concurrency: config.concurrency, rounds: config.rounds, transactions: config.transactions, log });
      console.table(result.rows.map((r) => ({ runner: r.runner, path: r.path, c: r.concurrency, ops: r.opsPerSecond.median, min: r.opsPerSecond.min, max: r.opsPerSecond.max, p50: r.latencyMs.p50, p99: r.latencyMs.p99 })));
      console.table(result.ratios);
    }
  });
  log(`\nbench finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
