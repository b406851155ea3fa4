import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// `authdb lint` on real files: the project's own migrations, a bad one, JSON.

let dir: TempDir;

beforeAll(async () => {
  dir = await writeMigrationDir({
    '20260101000001_users': {
      up: 'CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);\nCREATE INDEX users_email_idx ON users (email);\n',
      down: '-- the index goes with its table\nDROP INDEX users_email_idx;\nDROP TABLE users;\n',
    },
  });
});

afterAll(async () => {
  await dir.remove();
});

describe('authdb lint', () => {
  it("finds nothing in authdb's own migrations", async () => {
    const result = await runMain(['lint']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^authdb: 0 error\(s\), 0 warning\(s\) in \d+ file\(s\)/);
    expect(result.code).toBe(0);
  });

  it('lints a directory, learning from the up file which table the down file drops an index of', async () => {
    const result = await runMain(['lint', '--migrations-dir', dir.path]);
    expect(result.stderr).toContain('0 error(s), 0 warning(s) in 2 file(s)');
    expect(result.code).toBe(0);
  });

  it('reports FILE:LINE:COLUMN, the rule and why for a bad migration, and exits 1', async () => {
    const bad = join(dir.path, '20260101000002_bad.up.sql');
    await writeFile(bad, '-- add a lookup index\nCREATE INDEX users_id_email ON users (id, email);\nALTER TABLE users ADD COLUMN seen timestamp;\n');
    const result = await runMain(['lint', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/20260101000002_bad\.up\.sql:2:32: error index-without-concurrently: CREATE INDEX users_id_email on existing table "users" without CONCURRENTLY blocks/),
      expect.stringMatching(/20260101000002_bad\.up\.sql:3:35: error timestamp-without-time-zone: .*use timestamptz$/),
    ]);
    expect(result.stderr).toContain('2 error(s), 0 warning(s) in 1 file(s)');
  });

  it('prints findings and suppressions as JSON with --json; a reasoned suppression passes', async () => {
    const ok = join(dir.path, '20260101000003_ok.up.sql');
    await writeFile(ok, '-- authdb-lint-ignore index-without-concurrently: users has at most a few rows here\nCREATE INDEX users_email_lower ON users (lower(email));\n');
    const result = await runMain(['lint', '--json', ok]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      files: [ok],
      errors: 0,
      warnings: 0,
      findings: [],
      suppressed: [
        {
          rule: 'index-without-concurrently',
          severity: 'error',
          file: ok,
          line: 2,
          column: 35,
          message: expect.stringContaining('without CONCURRENTLY') as string,
          reason: 'users has at most a few rows here',
        },
      ],
    });
  });

  it('fails on a suppression without a reason', async () => {
    const file = join(dir.path, '20260101000004_noreason.up.sql');
    await writeFile(file, 'CREATE INDEX users_x ON users (email); -- authdb-lint-ignore index-without-concurrently\n');
    const result = await runMain(['lint', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('error lint-ignore-without-reason: authdb-lint-ignore index-without-concurrently has no reason');
  });

  it('lints only the files named: an unreadable or broken sibling does not matter, a sibling still tells which table an index is on', async () => {
    const own = await writeMigrationDir({
      '20260101000001_users': {
        up: 'CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);\nCREATE INDEX users_email_idx ON users (email);\n',
        down: '-- the index goes with its table\nDROP INDEX users_email_idx;\nDROP TABLE users;\n',
      },
    });
    try {
      await mkdir(join(own.path, '20260101000002_not_a_file.up.sql'));
      await writeFile(join(own.path, '20260101000003_broken.up.sql'), 'CREATE TABLE (;\n');
      const result = await runMain(['lint', join(own.path, '20260101000001_users.down.sql')]);
      expect(result.stderr).toContain('0 error(s), 0 warning(s) in 1 file(s)');
      expect(result.code).toBe(0);
    } finally {
      await own.remove();
    }
  });

  it('says which file it cannot read', async () => {
    const result = await runMain(['lint', join(dir.path, 'missing.up.sql')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read .*missing\.up\.sql.*\[AUTHDB_LINT_FILE\]/);
  });
});
