import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { runMain, withoutPasswordWarning } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir, writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// Command-line contract: exit codes 0 success / 1 failure / 2 usage error,
// help on every command, `migrate status` and `migrate create` output.
// Runs `main` in this process (what dist/cli/main.js calls); an empty
// environment keeps usage errors from ever reaching a server.

describe('help', () => {
  it.each(COMMANDS.map((c) => c.name))('`%s --help` prints its usage on stdout and exits 0', async (command) => {
    for (const flag of ['--help', '-h']) {
      const result = await runMain([...command.split(' '), flag]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: authdb ${command} `));
    }
  });

  it('`authdb --help` and `authdb migrate --help` list the commands and exit 0', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    for (const { name } of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 success, 1 failure, 2 usage error.');
    const migrate = await runMain(['migrate', '--help']);
    expect(migrate).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: authdb migrate <up\|down\|status\|create[|>]/) as unknown });
  });
});

describe('--version', () => {
  it.each([['--version'], ['-V']])('`authdb %s` prints the package version on stdout and exits 0', async (flag) => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runMain([flag]);
    expect(result).toEqual({ code: 0, stdout: `authdb ${manifest.version}\n`, stderr: '' });
  });
});

describe('usage errors exit 2 with a message on stderr', () => {
  it.each([
    [[], /^Usage: authdb <command>/],
    [['bogus'], /^authdb: unknown command "bogus"\nRun `authdb --help` for usage\.\n$/],
    [['migrate'], /^Usage: authdb migrate </],
    [['migrate', 'bogus'], /^authdb: unknown command "migrate bogus"/],
    [['migrate', 'up', '--bogus'], /^authdb: Unknown option '--bogus'\nRun `authdb migrate up --help` for usage\.\n$/],
    [['migrate', 'up', 'extra'], /unexpected argument: extra/],
    [['migrate', 'up', '--to'], /Option '--to <value>' argument missing/],
    [['migrate', 'down', '--steps', '0'], /--steps: "0" is not a positive whole number/],
    [['migrate', 'down', '--steps', 'two'], /--steps: "two" is not a positive whole number/],
    [['migrate', 'down', '--steps', '2', '--all'], /--steps and --all cannot be combined; choose one/],
    [['migrate', 'down', '--to', 'x', '--all'], /--to and --all cannot be combined/],
    [['migrate', 'up', '--lock-timeout', 'soon'], /--lock-timeout: "soon" is not a duration \(examples: 500ms, 30s, 2m\)/],
    [['migrate', 'up', '--ddl-lock-timeout', '1.5s'], /--ddl-lock-timeout: "1.5s" is not a duration/],
    [['migrate', 'status', '--schema', 'bad-name'], /--schema: "bad-name" is not a plain identifier/],
    [['migrate', 'up', '--schema', 'x'.repeat(64)], /is not a plain identifier/],
    [['migrate', 'create'], /missing argument/],
    [['migrate', 'create', 'AddUsers'], /NAME "AddUsers" must be lowercase letters, digits and underscores/],
    [['migrate', 'create', '1st'], /NAME "1st" must be/],
    [['migrate', 'create', 'add-users'], /NAME "add-users" must be/],
    [['db'], /missing argument/],
    [['db', 'restart'], /unknown action "restart"; expected one of start, stop, status, url/],
  ])('%j', async (args, message) => {
    const result = await runMain(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('with a database', () => {
  const A = '20260101000001_a';
  const B = '20260101000002_b';
  let db: TestDatabase;
  let dir: TempDir;
  let connection: string[];

  beforeAll(async () => {
    db = await createEmptyDatabase();
    dir = await writeMigrationDir({
      [A]: { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
      [B]: { up: 'CREATE TABLE b_t (id int);\n\nINSERT INTO b_t VALUES (1);\nSELECT id, missing_col\n  FROM b_t;\n', down: 'DROP TABLE b_t;\n' },
    });
    connection = ['--database-url', db.url, '--migrations-dir', dir.path];
  });

  afterAll(async () => {
    await db.close();
    await dir.remove();
  });

  it('a failing migration is exit 1, reported with file:line:column, SQLSTATE, message and a caret', async () => {
    const result = await runMain(['migrate', 'up', ...connection]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^applied\\s+${A} \\(\\d+ ms\\)\\n$`));
    expect(withoutPasswordWarning(result.stderr)).toBe(
      `authdb migrate up: error: ${dir.path}/${B}.up.sql:4:12: SQLSTATE 42703: column "missing_col" does not exist\n` +
        '4 | SELECT id, missing_col\n               ^\n' +
        'The migration was rolled back: nothing of this file was kept, and it was not recorded as applied. [AUTHDB_SQL]\n',
    );
  });

  it('`migrate status` prints a table, and --json an array of {name, source, state, appliedAt, checksum}', async () => {
    const table = await runMain(['migrate', 'status', ...connection]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^STATE\s+NAME\s+APPLIED AT$/);
    expect(lines[1]).toMatch(new RegExp(`^applied\\s+${A}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
    expect(lines[2]).toMatch(new RegExp(`^pending\\s+${B}\\s+-$`));

    const json = await runMain(['migrate', 'status', '--json', ...connection]);
    expect(json.code).toBe(0);
    const statuses = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(statuses).toEqual([
      { name: A, source: 'authdb', state: 'applied', appliedAt: expect.stringMatching(/Z$/) as unknown, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown },
      { name: B, source: 'authdb', state: 'pending', appliedAt: null, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown },
    ]);
  });

  it('`migrate status` exits 1 and says changed/missing when history was edited', async () => {
    await writeFile(join(dir.path, `${A}.up.sql`), 'CREATE TABLE a_t (id bigint);\n');
    try {
      const result = await runMain(['migrate', 'status', ...connection]);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`^changed\\s+${A}`, 'm'));
    } finally {
      await writeFile(join(dir.path, `${A}.up.sql`), 'CREATE TABLE a_t (id int);\n');
    }
  });

  it('`migrate down` where nothing was installed reverts nothing and creates nothing', async () => {
    const result = await runMain(['migrate', 'down', '--all', '--schema', 'never_installed', ...connection]);
    expect({ ...result, stderr: withoutPasswordWarning(result.stderr) }).toEqual({ code: 0, stdout: '', stderr: 'authdb: nothing to revert (schema "never_installed")\n' });
    const { rows } = await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'never_installed'`);
    expect(rows).toEqual([]);
  });

  it('connection failures are exit 1 and never show the password', async () => {
    // A wrong password and a missing database: fails under password and trust authentication alike.
    const url = new URL(db.url);
    url.password = 'not-the-password-xyzzy';
    url.pathname = '/authdb_no_such_database';
    const result = await runMain(['migrate', 'status', '--migrations-dir', dir.path], { DATABASE_URL: url.toString() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot connect to postgres://${url.username}:***@${url.host}${url.pathname} (from DATABASE_URL): `);
    expect(result.stderr).toMatch(/password authentication failed|database "authdb_no_such_database" does not exist/);
    expect(result.stderr).not.toContain('xyzzy');
  });
});

describe('migrate create', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await createTempDir();
  });

  afterAll(async () => {
    vi.useRealTimers();
    await dir.remove();
  });

  it('writes an up/down pair named by the UTC time, and never overwrites', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-04T05:06:07.890Z'));
    const target = join(dir.path, 'nested', 'migrations');

    const created = await runMain(['migrate', 'create', 'add_user_locale', '--migrations-dir', target]);

    expect(created.code).toBe(0);
    const stem = '20260304050607_add_user_locale';
    expect(created.stdout.trim().split('\n').map((line) => line.split('/').pop())).toEqual([`${stem}.up.sql`, `${stem}.down.sql`]);
    expect((await readdir(target)).sort()).toEqual([`${stem}.down.sql`, `${stem}.up.sql`]);
    expect(await readFile(join(target, `${stem}.up.sql`), 'utf8')).toMatch(new RegExp(`^-- ${stem} \\(up\\)\\n`));
    expect(await readFile(join(target, `${stem}.down.sql`), 'utf8')).toContain(`Exactly undoes ${stem}.up.sql`);

    await writeFile(join(target, `${stem}.up.sql`), 'CREATE TABLE precious ();\n');
    const again = await runMain(['migrate', 'create', 'add_user_locale', '--migrations-dir', target]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${stem}.up.sql already exists; authdb never overwrites a migration`);
    expect(await readFile(join(target, `${stem}.up.sql`), 'utf8')).toBe('CREATE TABLE precious ();\n');

    // Half a pair in the way: nothing is written.
    await writeFile(join(target, '20260304050607_other.down.sql'), 'keep');
    const half = await runMain(['migrate', 'create', 'other', '--migrations-dir', target]);
    expect(half.code).toBe(1);
    expect((await readdir(target)).sort()).toEqual(['20260304050607_add_user_locale.down.sql', '20260304050607_add_user_locale.up.sql', '20260304050607_other.down.sql']);
    expect(await readFile(join(target, '20260304050607_other.down.sql'), 'utf8')).toBe('keep');
    vi.useRealTimers();
  });
});
