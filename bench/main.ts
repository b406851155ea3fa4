/**
 * `npm run bench`: authdb's registration functions against the server's own
 * floor and the application-side paths they replace, in one run on one
 * server; latency from 10 k to 1 M users; contention on one address;
 * the CLI's start-up and migration timing; a profile of where the work goes. Ratios are what to
 * compare across machines, not absolute numbers.
 *
 * Server: BENCH_DATABASE_URL (a superuser URL: the bench creates and drops
 * its own databases), else a dedicated embedded cluster, removed after.
 * Sizes: see config.ts (BENCH_ROUNDS, BENCH_TRANSACTIONS, BENCH_CONCURRENCY,
 * BENCH_SCALE_SIZES, BENCH_SCALE_OPS, BENCH_CONTENTION_SESSIONS,
 * BENCH_MIGRATION_REPEATS, BENCH_CLI, BENCH_PURGE_SIZES,
 * BENCH_ONLY=paths,enumeration,scaling,contention,cli,migration,profile,input-bounds,purge).
 * Results: bench/results/ (latest.json, latest.md, latest.svg, plans.txt)
 * and README.md's Performance section.
 */
import { cpus, loadavg, platform, release } from 'node:os';
import { benchConfig, type BenchConfig } from './config.js';
import { measureContention } from './contention.js';
import { measureEnumeration } from './enumeration.js';
import { measureInputBounds } from './input-bounds.js';
import { measureCliStartup } from './cli-startup.js';
import { benchMigrationFiles } from './migration-files.js';
import { comparePaths } from './path-comparison.js';
import { capturePlans } from './plans.js';
import { profilePaths } from './profile.js';
import { measurePurge } from './purge.js';
import { findProgram } from './programs.js';
import { toMarkdown, writeResults, type BenchResults } from './report.js';
import { measureScaling } from './scaling.js';
import { migrate, withAdmin, withServer } from './server.js';

const log = (line: string): void => {
  console.log(line);
};

let sectionStarted = performance.now();
/** Logs the section heading, and how long the previous one took. */
const heading = (title: string): void => {
  log(`\n== ${title} (at ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s)`);
};

async function main(): Promise<void> {
  const config = benchConfig(process.env);
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  sectionStarted = started;
  const [pgbench, psql] = await Promise.all([findProgram('pgbench'), findProgram('psql')]);
  log(pgbench ? `pgbench: ${pgbench.path} (${pgbench.version})` : 'pgbench: not found (no Debian postgresql package, not on PATH): the pgbench rows are skipped');
  const results = await withServer(config.databaseUrl, async (server) => {
    const serverVersion = await withAdmin(server.adminUrl, async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?');
    log(`server: PostgreSQL ${serverVersion} (${server.kind}); Node ${process.version}`);
    const parts: { -readonly [K in keyof BenchResults]?: BenchResults[K] } = {};

    if (config.sections.has('paths')) {
      heading('1. floors and paths, interleaved');
      const url = await server.createDatabase('paths');
      await migrate(url);
      parts.paths = await comparePaths({ url, pgbench, concurrency: config.concurrency, rounds: config.rounds, transactions: config.transactions, log });
    }
    if (config.sections.has('enumeration')) {
      heading('1b. registerUser with a password: new against confirmed address');
      const url = await server.createDatabase('enumeration');
      await migrate(url);
      parts.enumeration = await measureEnumeration(url, config.rounds);
    }
    if (config.sections.has('scaling')) {
      heading('2. scaling');
      parts.scaling = await measureScaling({ server, sizes: config.scaleSizes, operations: config.scaleOperations, rounds: config.rounds, log });
      parts.plans = await capturePlans(parts.scaling.largestUrl, parts.scaling.largestTag);
    }
    if (config.sections.has('contention')) {
      heading('3. contention');
      const url = await server.createDatabase('contention');
      await migrate(url);
      parts.contention = await measureContention(url, config.contentionSessions, config.rounds);
    }
    if (config.sections.has('cli')) {
      heading('4. CLI start-up');
      parts.cli = await measureCliStartup(server, psql, config.migrationRepeats, config.cli);
    }
    if (config.sections.has('migration')) {
      heading('4b. migration files');
      // Apply and lint time of 1, 4 and 16 MB files (bench/migration-files.ts).
      parts.migrationFiles = await benchMigrationFiles({ adminUrl: server.adminUrl, psql });
    }
    if (config.sections.has('profile')) {
      heading('5. profile');
      parts.profile = await profilePaths(server, log);
    }
    if (config.sections.has('input-bounds')) {
      heading('6. input bounds');
      const url = await server.createDatabase('bounds');
      await migrate(url);
      parts.inputBounds = await measureInputBounds(url, log);
    }
    if (config.sections.has('purge')) {
      heading('7. purge');
      parts.purge = await measurePurge(server, config.purgeSizes, log);
    }
    return {
      generatedAt: new Date().toISOString(),
      durationSeconds: Math.round((performance.now() - started) / 1000),
      environment: { ...environment(serverVersion, server.kind, pgbench?.version), loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] ?? Number.NaN },
      settings: settings(config),
      ...parts,
    } satisfies BenchResults;
  });
  log(`\n${toMarkdown(results)}`);
  const written = await writeResults(config.resultsDir, results, { updateReadme: config.updatesReadme });
  log(`written: ${written.join(', ')}`);
  log(`bench finished in ${results.durationSeconds} s`);
}

function environment(serverVersion: string, server: string, pgbench: string | undefined): Record<string, string | number> {
  return {
    serverVersion,
    server,
    node: process.version,
    os: `${platform()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    pgbench: pgbench ?? 'no pgbench',
  };
}

function settings(config: BenchConfig): Record<string, unknown> {
  return {
    concurrency: config.concurrency,
    rounds: config.rounds,
    transactions: config.transactions,
    scaleSizes: config.scaleSizes,
    scaleOperations: config.scaleOperations,
    contentionSessions: config.contentionSessions,
    migrationRepeats: config.migrationRepeats,
    purgeSizes: config.purgeSizes,
    sections: [...config.sections],
  };
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
