import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, cleanEnv, runCli, runMain, withoutPasswordWarning } from '../support/cli.js';
import { createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// The built CLI as users run it: a separate process, its exit status, its
// environment and its output streams.

const ESC = String.fromCharCode(0x1b);

let migrated: TestDatabase;
let empty: TestDatabase;
let failing: TempDir;

beforeAll(async () => {
  [migrated, empty, failing] = await Promise.all([
    createMigratedDatabase(),
    createEmptyDatabase(),
    writeMigrationDir({ '20260101000001_bad': { up: 'CREATE TABLE ok_t (id int);\nSELECT * FROM no_such_table;\n', down: '' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([migrated.close(), empty.close(), failing.remove()]);
});

/** The parts of a database URL, as PG* variables. */
function pgEnv(url: string): Record<string, string> {
  const u = new URL(url);
  return { PGHOST: u.hostname, PGPORT: u.port, PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) };
}

/** A wrong password and a missing database: refused under password and trust authentication alike. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  u.pathname = '/authdb_no_such_database';
  return u.toString();
}

describe('exit status of the process', () => {
  it('is 0 for help, 2 for a usage error, 1 for a failing migration (reported on stderr with file:line:column)', async () => {
    const [help, usage, failure] = await Promise.all([
      runCli(['migrate', 'up', '--help']),
      runCli(['migrate', 'down', '--steps', '1', '--all']),
      runCli(['migrate', 'up', '--database-url', empty.url, '--migrations-dir', failing.path]),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: authdb migrate up/);
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain(`${failing.path}/20260101000001_bad.up.sql:2:15: SQLSTATE 42P01: relation "no_such_table" does not exist`);
    expect(failure.stderr).toContain('2 | SELECT * FROM no_such_table;');
  });
});

describe('connection resolution', () => {
  const status = ['migrate', 'status', '--json'];
  // If a run fell through to the embedded cluster, this makes it fail.
  const noEmbedded = { AUTHDB_EMBEDDED_DIR: '/dev/null/authdb' };

  it('--database-url beats DATABASE_URL, which beats PG*, which beat the embedded cluster', async () => {
    const bad = withPassword(migrated.url, 'wrong');
    const [flag, databaseUrl, pg] = await Promise.all([
      // Choosing between flag and DATABASE_URL needs no process of its own…
      runMain([...status, '--database-url', migrated.url], { ...noEmbedded, DATABASE_URL: bad, ...pgEnv(bad) }),
      runMain(status, { ...noEmbedded, DATABASE_URL: migrated.url, ...pgEnv(bad), PGHOST: 'no-such-host.invalid' }),
      // …but pg reads PG* from the process environment.
      runCli(status, { env: { ...noEmbedded, ...pgEnv(migrated.url) } }),
    ]);
    for (const result of [flag, databaseUrl, pg]) {
      expect(withoutPasswordWarning(result.stderr)).toBe('');
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as { state: string }[]).every((s) => s.state === 'applied')).toBe(true);
    }
  });

  it('a failed connection names the server and where it came from, with the password redacted', async () => {
    const secret = 'Sup3r-Secret-Pw';
    const bad = withPassword(migrated.url, secret);
    const [flag, env, pg] = await Promise.all([
      runMain([...status, '--database-url', bad]),
      runMain(status, { DATABASE_URL: `${bad}?sslmode=disable` }),
      runCli(status, { env: { ...noEmbedded, ...pgEnv(bad) } }),
    ]);
    const { host, pathname, username } = new URL(bad);
    expect(flag.stderr).toContain(`cannot connect to postgres://${username}:***@${host}${pathname} (from --database-url): `);
    expect(flag.stderr).toMatch(/password authentication failed|database "authdb_no_such_database" does not exist/);
    expect(env.stderr).toContain(`cannot connect to postgres://${username}:***@${host}${pathname}?sslmode=disable (from DATABASE_URL)`);
    expect(pg.stderr).toContain(`cannot connect to the server named by the PG* environment variables (PGHOST=${new URL(bad).hostname}, PGDATABASE=${pathname.slice(1)})`);
    for (const result of [flag, env, pg]) {
      expect(result.code).toBe(1);
      expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    }
  });
});

describe('output', () => {
  // NO_COLOR on a terminal: test/cli/output.test.ts.
  it('has no ANSI escapes when stdout is not a terminal', async () => {
    const result = await runCli(['migrate', 'status', '--database-url', migrated.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^applied /m);
    expect(result.stdout).not.toContain(ESC);
    expect(result.stderr).not.toContain(ESC);
  });

  it('survives a reader that closes the pipe early (`… --dry-run | head`): exit 0, no EPIPE crash', async () => {
    const child = spawn(process.execPath, [CLI_ENTRY, 'migrate', 'up', '--dry-run', '--database-url', empty.url], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(withoutPasswordWarning(stderr)).toBe('');
    expect(code).toBe(0);
  });
});
