import { execFile, spawn } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { serverAccount } from '../../src/embedded/os-user.js';
import { runMain } from '../support/cli.js';
import { processesMentioning, startCli } from '../support/cli-process.js';
import { createTempDir, writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { waitFor } from '../support/wait.js';

// Stale and corrupted state of the embedded cluster: a postmaster.pid left by
// a killed server whose pid now belongs to another live process, a damaged
// cluster.json, a start that fails (its own log lines, not an old log's), and
// a working directory that cannot be written.

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

let work: TempDir;
let migrations: TempDir;
let dir: string;
let cluster: EmbeddedCluster;

beforeAll(async () => {
  work = await createTempDir('authdb-recovery-');
  await chmod(work.path, 0o755);
  migrations = await writeMigrationDir({ '20990101000001_t': { up: 'CREATE TABLE t (id int);', down: 'DROP TABLE t;' } });
  dir = join(work.path, 'cluster');
  cluster = new EmbeddedCluster({ dir });
});

afterAll(async () => {
  await cluster.stop().catch(() => undefined);
  await migrations.remove();
  await work.remove();
});

function authdb(...args: string[]): ReturnType<typeof runMain> {
  return runMain(args, { AUTHDB_EMBEDDED_DIR: dir });
}

function migrateStatus(): ReturnType<typeof runMain> {
  return authdb('migrate', 'status', '--migrations-dir', migrations.path);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Generous limits: real CLI processes and server starts on a shared, loaded machine.
describe('stale and corrupted state of the embedded cluster', { timeout: 180_000 }, () => {
  it('a stale postmaster.pid naming another live process: status says stopped, stop and start clean it up', async () => {
    expect((await authdb('db', 'start')).code).toBe(0);
    const { pid } = await cluster.status();
    process.kill(pid ?? 0, 'SIGKILL');
    await waitFor('the killed server to be gone', async () => (await processesMentioning(cluster.dataDir)).length === 0);

    // Another live process, of the server's own OS user, now has the recorded pid.
    const account = await serverAccount();
    const other = spawn('sleep', ['600'], { stdio: 'ignore', ...(account.uid === undefined ? {} : { uid: account.uid, gid: account.gid }) });
    const otherPid = other.pid ?? 0;
    const pidFile = join(cluster.dataDir, 'postmaster.pid');
    const stale = (await readFile(pidFile, 'utf8')).replace(/^\d+\n/, `${otherPid}\n`);
    try {
      await writeFile(pidFile, stale);
      expect((await authdb('db', 'status')).stdout).toMatch(/^stopped .*postmaster\.pid is stale/);
      const stop = await authdb('db', 'stop');
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stderr).toContain('was not running');
      expect(stop.stderr).toContain(`removed a stale ${pidFile} (pid ${otherPid} is not a PostgreSQL server of this cluster`);

      // Planted again: a command removes it, starts the server, works, and stops it.
      await writeFile(pidFile, stale);
      const status = await migrateStatus();
      expect(status.code, status.stderr).toBe(0);
      expect(status.stderr).toContain('removed a stale');
      expect(status.stderr).toContain('(started for this command');
      expect(await cluster.status()).toMatchObject({ running: false });
      expect(isAlive(otherPid)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a postmaster.pid naming another cluster\'s live postmaster: neither status nor stop touches that server', async () => {
    // Another embedded cluster of the same OS user, running; this cluster's server was killed and its pid file now names the other's postmaster.
    const otherDir = join(work.path, 'other-cluster');
    const other = new EmbeddedCluster({ dir: otherDir });
    expect((await runMain(['db', 'start'], { AUTHDB_EMBEDDED_DIR: otherDir })).code).toBe(0);
    try {
      const otherStatus = await other.status();
      expect(otherStatus.running).toBe(true);
      const otherPid = otherStatus.pid ?? 0;
      expect((await authdb('db', 'start')).code).toBe(0);
      const { pid } = await cluster.status();
      process.kill(pid ?? 0, 'SIGKILL');
      await waitFor('the killed server to be gone', async () => (await processesMentioning(cluster.dataDir)).length === 0);
      const pidFile = join(cluster.dataDir, 'postmaster.pid');
      await writeFile(pidFile, (await readFile(pidFile, 'utf8')).replace(/^\d+\n/, `${otherPid}\n`));

      expect((await authdb('db', 'status')).stdout).toMatch(/^stopped .*postmaster\.pid is stale/);
      const stop = await authdb('db', 'stop');
      expect(stop.code, stop.stderr).toBe(0);
      expect(stop.stderr).toContain(`removed a stale ${pidFile} (pid ${otherPid} is not a PostgreSQL server of this cluster`);
      // The other server was never signalled: the same postmaster still runs and answers.
      expect(await other.status()).toMatchObject({ running: true, pid: otherPid });
    } finally {
      await other.stop().catch(() => undefined);
    }
  });

  const secret = 'Zq8kP2vLw9mN4xR7tY6hJ3bF5cD1gS0a'.replace('Lw9', "L'w"); // a malformed password: a quote in it
  const damaged: readonly [string, string, string][] = [
    ['empty', '', 'is empty'],
    ['an empty object', '{}', 'has no "superuser" login'],
    ['not JSON', '{"superuser": {"user": "postgres", "password": "' + secret, 'is not valid JSON'],
    ['a malformed password', JSON.stringify({ superuser: { user: 'postgres', password: secret }, application: { user: 'authdb_app', password: secret } }), 'holds no valid password'],
    ['the old format', JSON.stringify({ user: 'postgres', password: secret }), 'was written by an older authdb'],
  ];

  it.each(damaged)('cluster.json %s: names the file and `db reset-passwords`, prints no part of the password', async (_what, content, problem) => {
    await cluster.initialise();
    await writeFile(cluster.credentialsFile, content);

    const failed = await migrateStatus();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${cluster.credentialsFile} ${problem}`);
    expect(failed.stderr).toContain(`authdb db reset-passwords --embedded-dir ${dir}`);
    expect(failed.stderr).toContain('[AUTHDB_EMBEDDED_STATE]');
    for (let i = 0; i + 5 <= secret.length; i++) expect(failed.stderr).not.toContain(secret.slice(i, i + 5));

    const reset = await authdb('db', 'reset-passwords');
    expect(reset.code, reset.stderr).toBe(0);
    const after = await migrateStatus();
    expect(after.code, after.stderr).toBe(0);
  });

  it('a start that fails shows this start’s log lines, not an old log', async () => {
    await cluster.initialise();
    await appendFile(cluster.logFile, 'FATAL:  AN OLD FAILURE THAT IS NOT THIS ONE\n');
    const conf = join(cluster.dataDir, 'postgresql.conf');
    const original = await readFile(conf, 'utf8');
    try {
      await appendFile(conf, 'authdb_test_bogus_setting = 1\n');
      const failed = await migrateStatus();
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`the embedded PostgreSQL in ${dir} did not start`);
      expect(failed.stderr).toContain('authdb_test_bogus_setting');
      expect(failed.stderr).toContain('[AUTHDB_EMBEDDED_SERVER]');
      expect(failed.stderr).not.toContain('AN OLD FAILURE');
    } finally {
      await writeFile(conf, original);
    }
  });

  it.skipIf(!isRoot)('a working directory the user cannot write: says so, and how to point elsewhere', async () => {
    const readOnly = join(work.path, 'not-writable');
    await mkdir(readOnly, { mode: 0o755 }); // root's; `nobody` runs the CLI in it
    const result = await startCli(['migrate', 'status', '--migrations-dir', migrations.path], { cwd: readOnly, uid: NOBODY, gid: NOBODY }).result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the embedded PostgreSQL directory ${readOnly}/.authdb is not writable by you (EACCES)`);
    expect(result.stderr).toContain('--embedded-dir DIR or AUTHDB_EMBEDDED_DIR');
    expect(result.stderr).toContain('--database-url or DATABASE_URL');
  });

  it.skipIf(!isRoot)('an existing cluster on a read-only filesystem: says so, shows no old log', async () => {
    const mountPoint = join(work.path, 'read-only-mount');
    await mkdir(mountPoint, { mode: 0o755 });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', mountPoint]);
    } catch (error) {
      throw new Error(`this test needs to mount a tmpfs as root (CAP_SYS_ADMIN): ${(error as Error).message}`);
    }
    try {
      const created = await startCli(['migrate', 'status', '--migrations-dir', migrations.path], { cwd: mountPoint }).result;
      expect(created.code, created.stderr).toBe(0);
      await appendFile(join(mountPoint, '.authdb', 'postgres.log'), 'FATAL:  AN OLD FAILURE THAT IS NOT THIS ONE\n');
      await run('mount', ['-o', 'remount,ro', mountPoint]);

      const result = await startCli(['migrate', 'status', '--migrations-dir', migrations.path], { cwd: mountPoint }).result;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the embedded PostgreSQL directory ${mountPoint}/.authdb is on a read-only filesystem (EROFS)`);
      expect(result.stderr).toContain('--embedded-dir DIR or AUTHDB_EMBEDDED_DIR');
      expect(result.stderr).not.toContain('AN OLD FAILURE');
    } finally {
      await run('umount', [mountPoint]);
    }
  });
});
