import { execFile } from 'node:child_process';
import { chmod, cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from '../../src/migrate/migration-source.js';
import { runCli, runMain } from '../support/cli.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';

// With no server configured (no --database-url, DATABASE_URL or PG*), the CLI
// creates an embedded cluster in ./.authdb, starts it for the command and
// stops it after, even when the command fails. `authdb db` manages it.
// One cluster init (about a second) for the whole file.

let cwd: TempDir;
let dataDir: string;
let migrationsDir: string;
let names: string[];

beforeAll(async () => {
  cwd = await createTempDir('authdb-embedded-');
  // mkdtemp makes it 0700; as root the server runs as `postgres`, which must enter it.
  await chmod(cwd.path, 0o755);
  dataDir = join(cwd.path, '.authdb', 'data');
  // A snapshot of the shipped migrations, so edits to them cannot disturb this file's runs.
  migrationsDir = join(cwd.path, 'migrations');
  await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
  names = (await loadMigrations(migrationsDir)).map((m) => m.name);
});

afterAll(async () => {
  await new EmbeddedCluster({ dir: join(cwd.path, '.authdb') }).stop().catch(() => undefined);
  await cwd.remove();
});

/** Command lines of running processes that use this test's data directory. */
async function serverProcesses(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((line) => line.includes(dataDir));
}

/** `authdb …args` in a child process, in the temporary working directory, with no server configured. */
function authdb(...args: string[]): ReturnType<typeof runCli> {
  return runCli(args, { cwd: cwd.path });
}

/** The same, in this process (faster): the cluster directory comes from AUTHDB_EMBEDDED_DIR. */
function authdbHere(...args: string[]): ReturnType<typeof runMain> {
  return runMain(args, { AUTHDB_EMBEDDED_DIR: join(cwd.path, '.authdb') });
}

function migrate(...args: string[]): ReturnType<typeof runCli> {
  return authdb('migrate', ...args, '--migrations-dir', migrationsDir);
}

describe('the embedded default', { timeout: 180_000 }, () => {
  it('`migrate up` with no database configured creates .authdb, applies, and stops the server after', async () => {
    const up = await migrate('up');

    expect(up.stderr).toContain(`authdb: created an embedded PostgreSQL cluster in ${cwd.path}/.authdb`);
    expect(up.stderr).toContain('(started for this command; stopped when the last command using it ends)');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.match(/^applied/gm)).toHaveLength(names.length);
    expect(await readdir(join(cwd.path, '.authdb'))).toEqual(expect.arrayContaining(['cluster.json', 'data', 'postgres.log']));
    expect(await authdbHere('db', 'status')).toMatchObject({ code: 0, stdout: `stopped (${cwd.path}/.authdb)\n` });
    expect(await serverProcesses()).toEqual([]);
  });

  it('stops the server it started when the command fails', async () => {
    const failed = await authdbHere('migrate', 'up', '--to', '20990101000000_nope', '--migrations-dir', migrationsDir);

    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('no migration has that name');
    expect(failed.stderr).toContain('(started for this command; stopped when the last command using it ends)');
    expect(failed.stderr).not.toContain('created an embedded');
    expect(await serverProcesses()).toEqual([]);
  });

  it('`db start`, `db url`, `db status` and `db stop` manage a server that outlives each command', async () => {
    const start = await authdb('db', 'start');
    expect(start.code, start.stderr).toBe(0);
    expect(start.stderr).toMatch(/embedded PostgreSQL started on 127\.0\.0\.1:\d+/);

    const status = await authdbHere('db', 'status');
    expect(status.stdout).toMatch(/^running, pid \d+, port \d+ /);
    expect(await serverProcesses()).not.toEqual([]);

    // `db url` prints the least-privilege application role's URL; `--superuser` the superuser's.
    const url = await authdbHere('db', 'url');
    expect(url.code, url.stderr).toBe(0);
    expect(url.stdout).toMatch(/^postgres:\/\/authdb_app:/);
    expect(url.stderr).toContain('`authdb grant --role authdb_app`');
    const app = new pg.Client({ connectionString: url.stdout.trim() });
    await app.connect();
    try {
      const { rows } = await app.query<{ rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean }>(
        'SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      );
      expect(rows).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false }]);
      await expect(app.query('SELECT count(*) FROM authdb_migrations')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await app.end();
    }
    const superuserUrl = await authdbHere('db', 'url', '--superuser');
    expect(superuserUrl.stdout).toMatch(/^postgres:\/\/postgres:/);
    const client = new pg.Client({ connectionString: superuserUrl.stdout.trim() });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM authdb_migrations');
      expect(rows[0]?.n).toBe(names.length);
    } finally {
      await client.end();
    }

    // A migrate command uses the running server and leaves it running ("stopped", below).
    const migrateStatus = await authdbHere('migrate', 'status', '--migrations-dir', migrationsDir);
    expect(migrateStatus.stderr).toContain('(already running)');
    expect(migrateStatus.code, migrateStatus.stderr).toBe(0);

    const stop = await authdbHere('db', 'stop');
    expect(stop).toMatchObject({ code: 0, stderr: `authdb: embedded PostgreSQL in ${cwd.path}/.authdb stopped\n` });
    expect((await authdbHere('db', 'status')).stdout).toMatch(/^stopped /);
    expect(await serverProcesses()).toEqual([]);
    const gone = await authdbHere('db', 'url');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('is not running; start it with `authdb db start`');
  });
});
