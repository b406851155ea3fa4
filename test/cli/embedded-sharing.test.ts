import { execFile } from 'node:child_process';
import { chmod, chown, open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { serverAccount } from '../../src/embedded/os-user.js';
import { runCli } from '../support/cli.js';
import { processesMentioning, startCli, type CliProcess } from '../support/cli-process.js';
import { createTempDir, writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// Several authdb processes on one embedded directory, as real CLI processes:
// concurrent first use (serialised by the cluster's lock), overlapping
// commands (each holds a lease; the last one stops the server), `db start`
// keeping it, and commands that die.
//
// "Long" commands are made long without sleeping: their migration runs
// `COPY … TO PROGRAM 'cat GATE'`, which blocks until the test opens the FIFO
// GATE for writing and closes it.

let work: TempDir;
const cleanup: TempDir[] = [];
let counter = 0;

beforeAll(async () => {
  work = await createTempDir('authdb-sharing-');
  await chmod(work.path, 0o755); // as root the server runs as `postgres`, which must reach the clusters and gates
});

afterAll(async () => {
  for (const dir of cleanup) await dir.remove();
  for (let i = 1; i <= counter; i++) await new EmbeddedCluster({ dir: join(work.path, `cluster-${i}`) }).stop().catch(() => undefined);
  await work.remove();
});

/** A fresh, not yet existing cluster directory. */
function freshClusterDir(): string {
  counter += 1;
  return join(work.path, `cluster-${counter}`);
}

/** A FIFO the server's OS user can read, and migrations whose only migration waits for it. */
async function gate(name: string): Promise<{ fifo: string; migrationsDir: string; open: () => Promise<void> }> {
  const fifo = join(work.path, `gate-${name}-${counter}`);
  await promisify(execFile)('mkfifo', ['-m', '0600', fifo]);
  const account = await serverAccount();
  if (account.uid !== undefined && account.gid !== undefined) await chown(fifo, account.uid, account.gid);
  const migrations = await writeMigrationDir({
    '20990101000001_gate': { up: `COPY (SELECT 1) TO PROGRAM 'cat ${fifo} > /dev/null';\nCREATE TABLE passed_gate ();`, down: 'DROP TABLE passed_gate;' },
  });
  cleanup.push(migrations);
  return {
    fifo,
    migrationsDir: migrations.path,
    // Opening a FIFO for writing waits for its reader; closing it ends the reader's input.
    open: async () => {
      const handle = await open(fifo, 'w');
      await handle.close();
    },
  };
}

function migrateUp(dir: string, schema: string, migrationsDir: string): CliProcess {
  return startCli(['migrate', 'up', '--schema', schema, '--migrations-dir', migrationsDir, '--allow-second-install'], { cwd: work.path, env: { AUTHDB_EMBEDDED_DIR: dir } });
}

async function serverProcesses(dir: string): Promise<string[]> {
  return processesMentioning(join(dir, 'data'));
}

// Generous limits: each test starts several CLI processes and a server on a shared, loaded machine.
describe('several authdb processes on one embedded directory', { timeout: 240_000 }, () => {
  it('concurrent first uses of a fresh directory make one cluster, and every command succeeds', async () => {
    const dir = freshClusterDir();
    const migrations = await writeMigrationDir({ '20990101000001_t': { up: 'CREATE TABLE t (id int);', down: 'DROP TABLE t;' } });
    cleanup.push(migrations);

    // `authdb migrate up & authdb migrate up & authdb migrate up & wait`
    const runs = await Promise.all(
      [1, 2, 3].map(() => runCli(['migrate', 'up', '--migrations-dir', migrations.path], { cwd: work.path, env: { AUTHDB_EMBEDDED_DIR: dir } })),
    );

    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.filter((run) => run.stderr.includes('created an embedded PostgreSQL cluster'))).toHaveLength(1);
    expect(runs.map((run) => run.stdout).join('').match(/^applied/gm)).toHaveLength(1);
    expect(await new EmbeddedCluster({ dir }).status()).toMatchObject({ initialised: true, running: false });
    expect(await serverProcesses(dir)).toEqual([]);
  });

  it('two long commands overlap on a fresh directory: both succeed, the server runs until the last ends, then stops', async () => {
    const dir = freshClusterDir();
    const gateA = await gate('a');
    const gateB = await gate('b');
    const cluster = new EmbeddedCluster({ dir });

    const a = migrateUp(dir, 'a', gateA.migrationsDir);
    await a.stderrContains('authdb: using the embedded PostgreSQL');
    const b = migrateUp(dir, 'b', gateB.migrationsDir);
    await b.stderrContains('(already running)');

    // The command that started the server ends first; the other still uses it.
    await gateA.open();
    const endA = await a.result;
    expect(endA.code, endA.stderr).toBe(0);
    expect(endA.stderr).not.toContain('stopped the embedded PostgreSQL');
    expect(await cluster.status()).toMatchObject({ running: true });

    await gateB.open();
    const endB = await b.result;
    expect(endB.code, endB.stderr).toBe(0);
    expect(endB.stdout).toContain('applied  20990101000001_gate');
    expect(endB.stderr).toContain('authdb: stopped the embedded PostgreSQL');
    expect(await cluster.status()).toMatchObject({ running: false });
    expect(await serverProcesses(dir)).toEqual([]);
  });

  it('`db start` keeps the server running after the commands; `db stop` while a command runs leaves the stop to it', async () => {
    const dir = freshClusterDir();
    const cluster = new EmbeddedCluster({ dir });
    const env = { AUTHDB_EMBEDDED_DIR: dir };
    expect((await runCli(['db', 'start'], { cwd: work.path, env })).code).toBe(0);

    const gateA = await gate('kept');
    const a = migrateUp(dir, 'a', gateA.migrationsDir);
    await a.stderrContains('(already running)');
    await gateA.open();
    expect((await a.result).code).toBe(0);
    expect(await cluster.status()).toMatchObject({ running: true });
    expect((await runCli(['db', 'status'], { cwd: work.path, env })).stdout).toContain('kept running by `authdb db start`');

    const gateB = await gate('stop');
    const b = migrateUp(dir, 'b', gateB.migrationsDir);
    await b.stderrContains('(already running)');
    const stop = await runCli(['db', 'stop'], { cwd: work.path, env });
    expect(stop.stderr).toContain('is used by other authdb commands; it stops when the last of them ends');
    expect(await cluster.status()).toMatchObject({ running: true });
    await gateB.open();
    const endB = await b.result;
    expect(endB.code, endB.stderr).toBe(0);
    expect(endB.stderr).toContain('authdb: stopped the embedded PostgreSQL');
    expect(await serverProcesses(dir)).toEqual([]);
  });

  it('Ctrl-C on the last user stops the server; a killed command holds no lease, so the next command stops the server it left', async () => {
    const dir = freshClusterDir();
    const cluster = new EmbeddedCluster({ dir });

    const interrupted = await gate('sigint');
    const a = migrateUp(dir, 'a', interrupted.migrationsDir);
    await a.stderrContains('authdb: using the embedded PostgreSQL');
    a.child.kill('SIGINT');
    expect((await a.result).code).toBe(130);
    expect(await cluster.status()).toMatchObject({ running: false });
    expect(await serverProcesses(dir)).toEqual([]);

    const killed = await gate('sigkill');
    const b = migrateUp(dir, 'b', killed.migrationsDir);
    await b.stderrContains('authdb: using the embedded PostgreSQL');
    b.child.kill('SIGKILL');
    await b.result;
    expect(await cluster.status()).toMatchObject({ running: true }); // nobody stopped it

    const next = await runCli(['migrate', 'status', '--schema', 'c', '--migrations-dir', killed.migrationsDir], { cwd: work.path, env: { AUTHDB_EMBEDDED_DIR: dir } });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('(already running)');
    expect(next.stderr).toContain('authdb: stopped the embedded PostgreSQL');
    expect(await serverProcesses(dir)).toEqual([]);
  });
});
