import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { definitionDifferences, functionNames, readFunctionDefinitions, withSqlApplied } from '../../scripts/release/function-definition.js';
import { functionSourceProblems } from '../../scripts/release/function-source-check.js';
import { listFunctionSources, type FunctionSource } from '../../scripts/release/function-sources.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir } from '../support/migration-fixtures.js';
import { runScript } from '../support/script.js';

/**
 * The migrations build exactly the reviewed sources: on a database the
 * shipped migrations built, running a function's source file
 * (CREATE OR REPLACE FUNCTION, COMMENT, REVOKE) changes nothing of that
 * function — not its definition (pg_get_functiondef: arguments, result,
 * attributes, settings, body), comment or privileges — and adds no overload.
 * No normalisation is needed: the source runs in the same schema, inside a
 * transaction that is rolled back.
 */
describe('sql/functions: one reviewed source per function, and the migrations build exactly it', () => {
  let db: TestDatabase;
  let client: pg.PoolClient;
  let sources: FunctionSource[];

  beforeAll(async () => {
    db = await createMigratedDatabase();
    client = await db.pool.connect();
    // As every authdb session: pg_get_functiondef then writes the names of an
    // SQL-standard body schema-qualified, so the comparison must read both
    // sides under one search_path.
    await client.query('SET search_path = pg_catalog, pg_temp');
    sources = await listFunctionSources();
  });
  afterAll(async () => {
    client.release();
    await db.close();
  });

  /** What running `sql` changes of function `name` of `public`; empty when nothing. */
  async function changesOf(name: string, sql: string): Promise<string[]> {
    const built = await readFunctionDefinitions(client, 'public', name);
    const applied = await withSqlApplied(client, 'public', sql, () => readFunctionDefinitions(client, 'public', name));
    return definitionDifferences(built, applied);
  }

  it('every function the migrations create has a source file, and every source file a function', async () => {
    expect(sources.map((s) => s.name)).toEqual(await functionNames(client, 'public'));
    expect(sources).toHaveLength(24);
  });

  it('every source file builds exactly what the migrations built', async () => {
    for (const source of sources) expect(source.text, source.path).toMatch(new RegExp(`^CREATE OR REPLACE FUNCTION ${source.name}\\(`, 'm'));
    expect(await functionSourceProblems(client, 'public', sources)).toEqual([]);
  });

  it('the check names a missing source, a source without a function and a source that differs', async () => {
    const kept = sources.filter((s) => s.name !== 'verify_email');
    const extra = { name: 'authdb_gone', path: '/x/authdb_gone.sql', text: 'SELECT 1;' };
    const changed = kept.map((s) => (s.name === 'authdb_text_fits' ? { ...s, text: s.text.replace(/^PARALLEL SAFE$/m, 'PARALLEL RESTRICTED') } : s));
    const problems = await functionSourceProblems(client, 'public', [...changed, extra]);
    expect(problems).toEqual([
      'function verify_email: the migrations create it, but it has no source file verify_email.sql; add one holding its CREATE OR REPLACE FUNCTION, COMMENT and REVOKE',
      expect.stringMatching(/authdb_text_fits\.sql differs from what the migrations build .*\n.*definition \(- before, \+ after\):\n {2}- +\d+: +IMMUTABLE PARALLEL SAFE\n {2}\+ +\d+: +IMMUTABLE PARALLEL RESTRICTED$/),
      '/x/authdb_gone.sql: the migrations create no function authdb_gone; a new function ships in a migration written by hand',
    ]);
  });

  it('npm run check:functions: exit 0 on the repository (its default: a throwaway embedded PostgreSQL), 1 naming a source that differs', async () => {
    const ok = await runScript('check-function-sources.ts', []);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^function sources match: the migrations of .* build exactly the 24 sources in /);
    const copy = await createTempDir('authdb-function-sources-');
    try {
      await cp(fileURLToPath(new URL('../../sql/functions/', import.meta.url)), copy.path, { recursive: true });
      const path = join(copy.path, 'verify_email.sql');
      await writeFile(path, (await readFile(path, 'utf8')).replace('\nBEGIN\n', '\nBEGIN\n    NULL;\n'));
      const failed = await runScript('check-function-sources.ts', ['--database-url', inject('adminUrl'), '--sources-dir', copy.path]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(`${path} differs from what the migrations build`);
      expect(failed.stderr).toMatch(/\+ +\d+: {5}NULL;/);
    } finally {
      await copy.remove();
    }
  });

  describe('fails when a source differs from what the migrations build', () => {
    const source = () => sources.find((s) => s.name === 'sign_in_credentials') as FunctionSource;

    it('one byte of the body', async () => {
      const changed = source().text.replace('\nBEGIN\n', '\nBEGIN \n');
      expect(changed).not.toBe(source().text);
      const changes = await changesOf('sign_in_credentials', changed);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatch(/^sign_in_credentials\(p_email text\) definition \(- before, \+ after\):\n {2}- +\d+: BEGIN\n {2}\+ +\d+: BEGIN $/);
    });

    it('an attribute (volatility)', async () => {
      const changed = source().text.replace(/^STABLE$/m, 'VOLATILE');
      expect(changed).not.toBe(source().text);
      expect(await changesOf('sign_in_credentials', changed)).toEqual([expect.stringMatching(/definition \(- before, \+ after\):\n {2}- +\d+: {2}STABLE/)]);
    });

    it('the comment', async () => {
      const changed = source().text.replace(/(COMMENT ON FUNCTION sign_in_credentials\(text\) IS\s+')/, '$1x');
      expect(await changesOf('sign_in_credentials', changed)).toEqual([expect.stringMatching(/^sign_in_credentials\(p_email text\) comment: "/)]);
    });

    it('the privileges (the REVOKE left out)', async () => {
      const changed = source().text.replace(/REVOKE EXECUTE ON FUNCTION sign_in_credentials\(text\) FROM PUBLIC;/, 'GRANT EXECUTE ON FUNCTION sign_in_credentials(text) TO PUBLIC;');
      expect(await changesOf('sign_in_credentials', changed)).toEqual([expect.stringMatching(/^sign_in_credentials\(p_email text\) privileges: /)]);
    });

    it('another signature: an overload beside the function the migrations built', async () => {
      const changed = source().text.replaceAll('(p_email text)', '(p_email text, p_extra integer DEFAULT 0)').replaceAll('sign_in_credentials(text)', 'sign_in_credentials(text, integer)');
      expect(await changesOf('sign_in_credentials', changed)).toEqual([
        'functions: sign_in_credentials(p_email text) → sign_in_credentials(p_email text), sign_in_credentials(p_email text, p_extra integer)',
      ]);
    });
  });
});
