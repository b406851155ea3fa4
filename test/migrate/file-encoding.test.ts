import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// One loader reads migration files for up, down, dry-run, status, validate
// and lint: strict UTF-8, a leading BOM dropped, NUL bytes refused, and the
// checksum taken over the cleaned text.

const A = '20260101000001_a';
const B = '20260101000002_b';

let db: TestDatabase;
let dir: TempDir;
let schemaIndex = 0;

beforeAll(async () => {
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await db.close();
});

afterEach(async () => {
  await dir.remove();
});

/** A directory with A (a table) and B, whose up file is `upBytes` exactly. */
async function fixture(upBytes: Buffer): Promise<{ args: string[]; schema: string; upPath: string }> {
  dir = await writeMigrationDir({
    [A]: { up: 'CREATE TABLE a_t (id int, note text);\n', down: 'DROP TABLE a_t;\n' },
    [B]: { up: '', down: 'SELECT 1;\n' },
  });
  const upPath = join(dir.path, `${B}.up.sql`);
  await writeFile(upPath, upBytes);
  const schema = `enc_${++schemaIndex}`;
  return { args: ['--database-url', db.url, '--migrations-dir', dir.path, '--schema', schema], schema, upPath };
}

async function rows(sql: string): Promise<unknown[]> {
  return (await db.pool.query<Record<string, unknown>>(sql)).rows;
}

async function tracked(schema: string): Promise<string[]> {
  const exists = await rows(`SELECT 1 FROM pg_class WHERE relname = 'authdb_migrations' AND relnamespace = to_regnamespace('${schema}')`);
  if (exists.length === 0) return [];
  return (await db.pool.query<{ name: string }>(`SELECT name FROM ${schema}.authdb_migrations ORDER BY name`)).rows.map((r) => r.name);
}

describe('invalid UTF-8', () => {
  it('is refused with file, line and byte before anything runs, instead of storing U+FFFD', async () => {
    // "café" in Latin-1: 0xE9 is not UTF-8. psql rejects this file; a lenient decoder stores "caf\uFFFD".
    const latin1 = Buffer.concat([Buffer.from(`INSERT INTO a_t VALUES (1, 'ok');\nINSERT INTO a_t VALUES (2, 'caf`), Buffer.from([0xe9]), Buffer.from("');\n")]);
    const { args, schema, upPath } = await fixture(latin1);

    const result = await runMain(['migrate', 'up', ...args, '--allow-second-install']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${upPath}:2: byte 32 of the line (offset 65 in the file): not valid UTF-8: invalid byte sequence starting 0xe9`);
    expect(result.stderr).toContain('[AUTHDB_MIGRATION_FILE]');
    // Refused while loading: not even the valid first migration ran.
    expect(await tracked(schema)).toEqual([]);
    expect((await runMain(['migrate', 'status', ...args])).stderr).toContain('not valid UTF-8');
    expect((await runMain(['migrate', 'up', '--dry-run', ...args, '--allow-second-install'])).code).toBe(1);
    const validate = await runMain(['migrate', 'validate', ...args]);
    expect(validate.stdout).toContain(`invalid-file: ${upPath}:2: byte 32`);
    expect(validate.code).toBe(1);
  });

  it('is a file-encoding finding of authdb lint, at its line', async () => {
    const { upPath } = await fixture(Buffer.concat([Buffer.from('SELECT 1;\nSELECT \''), Buffer.from([0xc3, 0x28]), Buffer.from("';\n")]));
    const result = await runMain(['lint', upPath]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`:2:9: error file-encoding: not valid UTF-8: invalid byte sequence starting 0xc3 0x28`);
  });
});

describe('a leading UTF-8 byte-order mark', () => {
  it('is dropped: the file applies (not "syntax error at or near \\uFEFFCREATE"), and lint and up agree', async () => {
    const { args, schema, upPath } = await fixture(Buffer.from('\uFEFFCREATE TABLE bom_t (id int);\n', 'utf8'));

    const result = await runMain(['migrate', 'up', ...args, '--allow-second-install']);

    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(await tracked(schema)).toEqual([A, B]);
    expect(await rows(`SELECT 1 FROM pg_class WHERE relname = 'bom_t' AND relnamespace = to_regnamespace('${schema}')`)).toHaveLength(1);
    expect((await runMain(['lint', upPath])).code).toBe(0);
  });

  it('and CRLF line endings are not a change of an applied file; any other byte is', async () => {
    const text = 'CREATE TABLE crlf_t (id int);\n-- a comment\n';
    const { args, upPath } = await fixture(Buffer.from(text, 'utf8'));
    expect((await runMain(['migrate', 'up', ...args, '--allow-second-install'])).code).toBe(0);

    await writeFile(upPath, Buffer.from(`\uFEFF${text.replace(/\n/g, '\r\n')}`, 'utf8'));
    const unchanged = await runMain(['migrate', 'validate', ...args]);
    expect(unchanged.stdout + unchanged.stderr).not.toContain('changed');
    expect(unchanged.code).toBe(0);
    expect((await runMain(['migrate', 'status', ...args])).code).toBe(0);

    await writeFile(upPath, Buffer.from(`\uFEFF${text.replace('comment', 'Comment')}`, 'utf8'));
    const changed = await runMain(['migrate', 'validate', ...args]);
    expect(changed.stdout).toContain(`changed: ${B}`);
    expect(changed.code).toBe(1);
  });
});

describe('a NUL byte', () => {
  it('is refused with its line, instead of silently truncating a no-transaction file that is then recorded as applied', async () => {
    const withNul = Buffer.concat([
      Buffer.from('-- authdb:no-transaction\nCREATE TABLE nul_t (id int);\n'),
      Buffer.from([0]),
      Buffer.from('CREATE TABLE after_nul_t (id int);\n'),
    ]);
    const { args, schema, upPath } = await fixture(withNul);

    const result = await runMain(['migrate', 'up', ...args, '--allow-second-install']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${upPath}:3: byte 1 of the line (offset 54 in the file): contains a NUL byte (0x00)`);
    expect(await tracked(schema)).toEqual([]);
    expect(await rows(`SELECT 1 FROM pg_class WHERE relname = 'nul_t'`)).toEqual([]);
  });
});
