import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/cli/run-report.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// migrate up --json / down --json: one document on stdout, on success and on failure (issue 18 §5), for CI.

let dir: TempDir;
let broken: TempDir;
let db: TestDatabase;

beforeAll(async () => {
  const [a, b] = [
    { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
    { up: 'CREATE TABLE b_t (id int);\n', down: 'DROP TABLE b_t;\n' },
  ];
  dir = await writeMigrationDir({ '20260101000001_a': a, '20260101000002_b': b });
  broken = await writeMigrationDir({ '20260101000001_a': a, '20260101000002_b': { up: 'CREATE TABLE b_t (id int);\nSELECT no_such_column FROM b_t;\n', down: 'DROP TABLE b_t;\n' } });
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await Promise.all([dir.remove(), broken.remove(), db.close()]);
});

function report(stdout: string): RunReport {
  return JSON.parse(stdout) as RunReport;
}

describe('migrate up --json and migrate down --json', () => {
  it('print the migrations the run completed, and nothing else on stdout', async () => {
    const base = ['--database-url', db.url, '--migrations-dir', dir.path, '--json'];
    const up = await runMain(['migrate', 'up', ...base]);
    expect(up.code).toBe(0);
    expect(report(up.stdout)).toEqual({
      command: 'migrate up',
      schema: 'public',
      ok: true,
      migrations: [
        { name: '20260101000001_a', direction: 'up', durationMs: expect.any(Number) as number },
        { name: '20260101000002_b', direction: 'up', durationMs: expect.any(Number) as number },
      ],
    });
    expect(up.stderr).toContain('applied 2 migration(s)');

    const again = await runMain(['migrate', 'up', ...base]);
    expect(report(again.stdout)).toEqual({ command: 'migrate up', schema: 'public', ok: true, migrations: [] });

    const down = await runMain(['migrate', 'down', '--all', ...base]);
    expect(down.code).toBe(0);
    expect(report(down.stdout).migrations.map((m) => [m.name, m.direction])).toEqual([
      ['20260101000002_b', 'down'],
      ['20260101000001_a', 'down'],
    ]);
  });

  it('a failure is a report too: ok false, the code and message, the migrations kept before it; exit 1', async () => {
    const up = await runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', broken.path, '--json']);
    expect(up.code).toBe(1);
    const failed = report(up.stdout);
    expect(failed).toMatchObject({ command: 'migrate up', ok: false, migrations: [{ name: '20260101000001_a', direction: 'up' }] });
    expect(failed.error?.code).toBe('AUTHDB_SQL');
    expect(failed.error?.message).toContain('no_such_column');
    expect(up.stderr).toContain('[AUTHDB_SQL]');
    await runMain(['migrate', 'down', '--all', '--database-url', db.url, '--migrations-dir', broken.path]);
  });

  it('--json with --dry-run is a usage error', async () => {
    const result = await runMain(['migrate', 'up', '--json', '--dry-run', '--database-url', db.url, '--migrations-dir', dir.path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--json and --dry-run cannot be combined');
  });
});
