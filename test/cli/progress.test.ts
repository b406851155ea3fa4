import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, cleanEnv, runCli, runProcess, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// A long file shows how many of its statements ran, as a status line on a
// terminal (issue 18 §5); piped output and --json get none. The terminal is a
// real pseudo-terminal: util-linux's script(1) runs the CLI on one and writes
// what the CLI wrote to it.

const TABLE = '20260101000001_items';
const SEED = '20260101000002_seed';
const ROWS = 1500;

let db: TestDatabase;
let dir: TempDir;

beforeAll(async () => {
  db = await createEmptyDatabase();
  dir = await writeMigrationDir({
    [TABLE]: { up: 'CREATE TABLE items (id int PRIMARY KEY);\n', down: 'DROP TABLE items;\n' },
    [SEED]: { up: Array.from({ length: ROWS }, (_, i) => `INSERT INTO items VALUES (${i});\n`).join(''), down: 'DELETE FROM items;\n' },
  });
});

afterAll(async () => {
  await db.close();
  await dir.remove();
});

/** `authdb migrate …args` on a pseudo-terminal: everything it wrote there, stdout and stderr together, as written. */
function onTerminal(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  const command = [process.execPath, CLI_ENTRY, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return runProcess('script', ['--quiet', '--return', '--flush', '--command', command, '/dev/null'], {
    env: cleanEnv({ DATABASE_URL: db.url, TERM: 'xterm', ...env }),
  });
}

async function reset(): Promise<void> {
  await db.pool.query('DROP TABLE IF EXISTS public.items; DROP TABLE IF EXISTS public.authdb_migrations');
}

describe('progress of a long file', () => {
  it('on a terminal: a status line of statements done, cleared before the next line', async () => {
    await reset();
    const result = await onTerminal(['migrate', 'up', '--migrations-dir', dir.path]);

    expect(result.code).toBe(0);
    const status = `\rauthdb: ${SEED}.up.sql: 1,500 of 1,500 statements (100%)\u001b[K`;
    expect(result.stdout).toContain(status);
    // Every status line overwrites the one before; the next line written clears it first.
    const cleared = result.stdout.indexOf(`${status}\r\u001b[K`);
    expect(cleared).toBeGreaterThan(-1);
    expect(result.stdout.indexOf(`${SEED} (`)).toBeGreaterThan(cleared);
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM public.items');
    expect(rows).toEqual([{ n: String(ROWS) }]);
  });

  it('on a terminal that cannot overwrite a line (TERM=dumb): no status line', async () => {
    await reset();
    const result = await onTerminal(['migrate', 'up', '--migrations-dir', dir.path], { TERM: 'dumb' });

    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('statements (');
    expect(result.stdout).toContain(`applied  ${SEED}`);
  });

  it('piped: no status line', async () => {
    await reset();
    const result = await runCli(['migrate', 'up', '--migrations-dir', dir.path], { env: { DATABASE_URL: db.url } });

    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('statements (');
    expect(result.stderr).not.toContain('\r');
    expect(result.stdout).toContain(`applied  ${SEED}`);
  });

  it('with --json on a terminal: the document only, no status line', async () => {
    await reset();
    const result = await onTerminal(['migrate', 'up', '--json', '--migrations-dir', dir.path]);

    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('statements (');
    expect(result.stdout).toContain(`"name": "${SEED}"`);
  });
});
