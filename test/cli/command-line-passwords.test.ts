import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLinePasswordWarnings } from '../../src/cli/command-line-passwords.js';
import { runCli } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';

// Issue 14 §5 "Passwords on command lines": `--database-url postgres://u:secret@…`
// is readable by every OS user in /proc/<pid>/cmdline. The CLI warns (never
// repeating the password) and names the alternatives, which work.

const roles = new TestRoles();
let db: TestDatabase;
let deployer: TestRole;
let dir: string;

beforeAll(async () => {
  db = await createEmptyDatabase();
  deployer = await roles.create('authdb_cmdline_deployer');
  await db.pool.query(`GRANT CREATE ON DATABASE ${db.name} TO ${deployer.name}`);
  dir = await mkdtemp(join(tmpdir(), 'authdb-pgpass-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await db.close();
  await roles.dropAll([]);
});

/** A read-only command that connects: the plan of a first install into `auth`. */
const DRY_RUN = ['migrate', 'up', '--dry-run', '--schema', 'auth'];
const WARNING = 'carries a password, and any user of this machine can read a command line';

describe('a password on the command line', () => {
  it('--database-url with a password: the command runs, and stderr warns about /proc/<pid>/cmdline and names DATABASE_URL and ~/.pgpass, never the password', async () => {
    const url = deployer.urlFor(db.url);
    const password = decodeURIComponent(new URL(url).password);
    for (const args of [
      [...DRY_RUN, '--database-url', url],
      [...DRY_RUN, `--database-url=${url}`],
    ]) {
      const result = await runCli(args);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`authdb: warning: the URL given with --database-url ${WARNING} while the command runs (ps, /proc/<pid>/cmdline)`);
      expect(result.stderr).toMatch(/Set DATABASE_URL instead, or leave the password out of the URL and keep it in a password file \(~\/\.pgpass, or the file PGPASSFILE names; mode 0600\)/);
      expect(`${result.stdout}${result.stderr}`).not.toContain(password);
    }
  });

  it('no warning for the same URL in DATABASE_URL', async () => {
    const result = await runCli(DRY_RUN, { env: { DATABASE_URL: deployer.urlFor(db.url) } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('warning');
  });

  it('no warning for a URL without a password, the password in the file PGPASSFILE names: it connects', async () => {
    const url = new URL(deployer.urlFor(db.url));
    const passfile = join(dir, 'pgpass');
    await writeFile(passfile, `${url.hostname}:${url.port}:${db.name}:${deployer.name}:${decodeURIComponent(url.password)}\n`, { mode: 0o600 });
    url.password = '';
    const result = await runCli([...DRY_RUN, '--database-url', url.toString()], { env: { PGPASSFILE: passfile } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('authdb: warning');
    // The server asks for the password: without the file, the same command cannot log in.
    const without = await runCli([...DRY_RUN, '--database-url', url.toString()], { env: { PGPASSFILE: join(dir, 'missing') } });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('[AUTHDB_CONNECT]');
  });
});

describe('commandLinePasswordWarnings', () => {
  it('warns for each URL option whose value carries a password, in the user part or as ?password=', () => {
    expect(commandLinePasswordWarnings(['migrate', 'up', '--database-url', 'postgres://u:s3cret@h/db'])).toHaveLength(1);
    expect(commandLinePasswordWarnings(['--database-url=postgresql://u:s3cret@h:5432/db'])).toHaveLength(1);
    expect(commandLinePasswordWarnings(['--database-url', 'postgres://u@h/db?password=s3cret'])).toHaveLength(1);
    const scratch = commandLinePasswordWarnings(['--database-url', 'postgres://u:a@h/db', '--scratch-url', 'postgres://u:b@h/scratch']);
    expect(scratch).toHaveLength(2);
    expect(scratch[1]).toContain('--scratch-url');
    // Refused later as not a valid URL, but the password is on the command line all the same.
    expect(commandLinePasswordWarnings(['--database-url', 'postgres://u:pa ss@h/db'])).toHaveLength(1);
    for (const warning of [...scratch, ...commandLinePasswordWarnings(['--database-url', 'postgres://u@h/db?password=s3cret'])]) {
      expect(warning).not.toMatch(/s3cret|:a@|:b@/);
    }
  });

  it('stays silent for URLs without a password, other options and arguments after --', () => {
    expect(commandLinePasswordWarnings(['--database-url', 'postgres://u@h/db'])).toEqual([]);
    expect(commandLinePasswordWarnings(['--database-url', 'postgres://h/db?sslmode=require'])).toEqual([]);
    expect(commandLinePasswordWarnings(['--schema', 'postgres://u:s3cret@h/db'])).toEqual([]);
    expect(commandLinePasswordWarnings(['lint', '--', '--database-url', 'postgres://u:s3cret@h/db'])).toEqual([]);
    expect(commandLinePasswordWarnings(['--database-url'])).toEqual([]);
  });
});
