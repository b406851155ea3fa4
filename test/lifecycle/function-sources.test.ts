import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definitionDifferences, functionNames, readFunctionDefinitions, withSqlApplied } from '../../scripts/release/function-definition.js';
import { listFunctionSources, type FunctionSource } from '../../scripts/release/function-sources.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';

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
    const changes: string[] = [];
    for (const source of sources) {
      expect(source.text, source.path).toMatch(new RegExp(`^CREATE OR REPLACE FUNCTION ${source.name}\\(`, 'm'));
      changes.push(...(await changesOf(source.name, source.text)).map((c) => `${source.path} (before: as the migrations built it, after: as the source builds it): ${c}`));
    }
    expect(changes).toEqual([]);
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
