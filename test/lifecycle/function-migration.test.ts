import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { definitionDifferences, readFunctionDefinitions, withSqlApplied, type FunctionDefinition } from '../../scripts/release/function-definition.js';
import { writeMigrationPair } from '../../scripts/release/function-migration-pair.js';
import { generateFunctionMigration } from '../../scripts/release/generate-function-migration.js';
import { readFunctionSource } from '../../scripts/release/function-sources.js';
import { runCli } from '../support/cli.js';
import { createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { createTempDir, type TempDir } from '../support/migration-fixtures.js';
import { runScript } from '../support/script.js';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const FUNCTION = 'sign_in_credentials';
/** An SQL-standard body (RETURN …): stored parsed, so its down file is PostgreSQL's deparsed text. */
const SQL_FUNCTION = 'authdb_text_fits';

/**
 * npm run migration:function, end to end on a copy of the migrations and of
 * sql/functions: one function's body changed, the pair generated from a
 * scratch build on the test server, then applied, reverted and proved
 * reversible by the CLI, with the function as the source defines it after up
 * and as the shipped migrations built it after down.
 */
describe('npm run migration:function', () => {
  let work: TempDir;
  let migrationsDir: string;
  let sourcesDir: string;
  let shipped: FunctionDefinition[];
  let shippedSql: FunctionDefinition[];

  const generate = (...args: string[]) =>
    runScript('function-migration.ts', [...args, '--migrations-dir', migrationsDir, '--sources-dir', sourcesDir, '--database-url', inject('adminUrl')]);

  beforeAll(async () => {
    work = await createTempDir('authdb-function-migration-');
    migrationsDir = join(work.path, 'migrations');
    sourcesDir = join(work.path, 'functions');
    await cp(join(REPOSITORY, 'migrations'), migrationsDir, { recursive: true });
    await cp(join(REPOSITORY, 'sql', 'functions'), sourcesDir, { recursive: true });
    const built = await createMigratedDatabase();
    const client = await built.pool.connect();
    try {
      await client.query('SET search_path = pg_catalog, pg_temp');
      shipped = await readFunctionDefinitions(client, 'public', FUNCTION);
      shippedSql = await readFunctionDefinitions(client, 'public', SQL_FUNCTION);
    } finally {
      client.release();
    }
    await built.close();
  });
  afterAll(() => work.remove());

  it('--help says what it writes and exits 0', async () => {
    const result = await runScript('function-migration.ts', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm run migration:function -- FUNCTION NAME/);
  });

  it('a usage error exits 2 with the usage', async () => {
    const result = await runScript('function-migration.ts', [FUNCTION, 'Bad-Name']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NAME "Bad-Name" must be lowercase letters');
    expect(result.stderr).toContain('Usage: npm run migration:function');
  });

  it('refuses a source equal to what the migrations build, writing nothing (PL/pgSQL and SQL-standard bodies)', async () => {
    const before = await readdir(migrationsDir);
    const result = await generate(FUNCTION, 'unchanged');
    expect(result.stderr).toContain(`${join(sourcesDir, `${FUNCTION}.sql`)} defines sign_in_credentials(p_email text) exactly as the migrations of ${migrationsDir} build it: nothing to migrate`);
    expect(result.code).toBe(1);
    const standard = await generate(SQL_FUNCTION, 'unchanged');
    expect(standard.stderr).toContain('defines authdb_text_fits(p_value text, p_max integer) exactly as the migrations');
    expect(standard.code).toBe(1);
    expect(await readdir(migrationsDir)).toEqual(before);
  });

  it('refuses a function the migrations do not create, and a changed argument list', async () => {
    const path = join(sourcesDir, `${FUNCTION}.sql`);
    const original = await readFile(path, 'utf8');
    await writeFile(join(sourcesDir, 'authdb_new_helper.sql'), 'CREATE OR REPLACE FUNCTION authdb_new_helper() RETURNS int LANGUAGE sql RETURN 1;\n');
    const added = await generate('authdb_new_helper', 'new_helper');
    expect(added.code).toBe(1);
    expect(added.stderr).toContain('create no function authdb_new_helper: a new function is written as a migration by hand');
    await writeFile(path, original.replaceAll('(p_email text)', '(p_email text, p_extra integer DEFAULT 0)').replaceAll(`${FUNCTION}(text)`, `${FUNCTION}(text, integer)`));
    const overload = await generate(FUNCTION, 'overload').finally(() => writeFile(path, original));
    expect(overload.code).toBe(1);
    expect(overload.stderr).toContain('CREATE OR REPLACE cannot change the arguments (it adds an overload)');
    expect((await readdir(migrationsDir)).filter((f) => f.includes('new_helper') || f.includes('overload'))).toEqual([]);
  });

  describe('with the body changed', () => {
    let sourceText: string;
    let up: string;
    let down: string;
    let db: TestDatabase;

    beforeAll(async () => {
      const path = join(sourcesDir, `${FUNCTION}.sql`);
      await writeFile(path, (await readFile(path, 'utf8')).replace('    -- The input bound before any other work.\n', '    -- The input bound before any other work (upgraded).\n'));
      sourceText = (await readFunctionSource(path)).text;
      const sqlPath = join(sourcesDir, `${SQL_FUNCTION}.sql`);
      const sqlText = await readFile(sqlPath, 'utf8');
      expect(sqlText).toContain('(p_max OPERATOR(pg_catalog.*) 4)');
      await writeFile(sqlPath, sqlText.replace('(p_max OPERATOR(pg_catalog.*) 4)', '(4 OPERATOR(pg_catalog.*) p_max)'));
      db = await createEmptyDatabase();
    });
    afterAll(() => db.close());

    async function definitionInDb(name = FUNCTION): Promise<FunctionDefinition[]> {
      const client = new pg.Client({ connectionString: db.url, options: '-c search_path=pg_catalog,pg_temp' });
      await client.connect();
      try {
        return await readFunctionDefinitions(client, 'public', name);
      } finally {
        await client.end();
      }
    }

    async function sourceChanges(): Promise<string[]> {
      const client = new pg.Client({ connectionString: db.url, options: '-c search_path=pg_catalog,pg_temp' });
      await client.connect();
      try {
        const now = await readFunctionDefinitions(client, 'public', FUNCTION);
        return definitionDifferences(now, await withSqlApplied(client, 'public', sourceText, () => readFunctionDefinitions(client, 'public', FUNCTION)));
      } finally {
        await client.end();
      }
    }

    it('writes the pair: up is the source as it is, down the definition the migrations built', async () => {
      const result = await generate(FUNCTION, 'sign_in_comment');
      expect(result.code, result.stderr).toBe(0);
      [up = '', down = ''] = result.stdout.trim().split('\n');
      expect(up).toMatch(new RegExp(`^${migrationsDir}/\\d{14}_sign_in_comment\\.up\\.sql$`));
      expect(down).toBe(up.replace(/\.up\.sql$/, '.down.sql'));
      expect(result.stderr).toMatch(/definition \(- before, \+ after\):\n {2}- +\d+: {5}-- The input bound before any other work\.\n {2}\+ +\d+: {5}-- The input bound before any other work \(upgraded\)\.\n/);
      const upText = await readFile(up, 'utf8');
      expect(upText.endsWith(`\n\n${sourceText}`)).toBe(true);
      expect(upText.slice(0, upText.length - sourceText.length).split('\n').every((line) => line === '' || line.startsWith('--'))).toBe(true);
      const downText = await readFile(down, 'utf8');
      expect(downText).toContain('SET search_path FROM CURRENT');
      expect(downText).not.toContain('authdb_previous');
      expect(downText).toMatch(/\nREVOKE EXECUTE ON FUNCTION sign_in_credentials\(text\) FROM PUBLIC;\n$/);
    });

    it('writes the pair of an SQL-standard body: down is its deparsed definition, schema-neutral', async () => {
      const result = await generate(SQL_FUNCTION, 'text_fits_order');
      expect(result.code, result.stderr).toBe(0);
      const [, sqlDown = ''] = result.stdout.trim().split('\n');
      const downText = await readFile(sqlDown, 'utf8');
      expect(downText).toMatch(/\nRETURN CASE WHEN \(p_value IS NULL\) THEN true WHEN \(octet_length\(p_value\) > \(p_max \* 4\)\)/);
      expect(downText).not.toContain('authdb_previous');
    });

    it('authdb lint accepts the pairs', async () => {
      const result = await runCli(['lint', '--migrations-dir', migrationsDir]);
      expect(result.stdout + result.stderr).toContain('0 error(s)');
      expect(result.code).toBe(0);
    });

    it('migrate up builds the source; down restores what the shipped migrations built', async () => {
      const applied = await runCli(['migrate', 'up', '--migrations-dir', migrationsDir, '--database-url', db.url]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('_sign_in_comment');
      expect(applied.stdout).toContain('_text_fits_order');
      expect(await sourceChanges()).toEqual([]);
      expect((await definitionInDb())[0]?.definition).toContain('(upgraded)');
      expect((await definitionInDb(SQL_FUNCTION))[0]?.definition).toContain('(4 * p_max)');
      const reverted = await runCli(['migrate', 'down', '--steps', '2', '--migrations-dir', migrationsDir, '--database-url', db.url]);
      expect(reverted.code, reverted.stderr).toBe(0);
      expect(definitionDifferences(shipped, await definitionInDb())).toEqual([]);
      expect(definitionDifferences(shippedSql, await definitionInDb(SQL_FUNCTION))).toEqual([]);
    });

    it('migrate verify-reversible passes on the directory with the pair', async () => {
      const result = await runCli(['migrate', 'verify-reversible', '--migrations-dir', migrationsDir, '--database-url', inject('adminUrl')]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/reversible \d{14}_sign_in_comment\nreversible \d{14}_text_fits_order\n/);
    });

    it('a second run refuses: the migrations now build the sources', async () => {
      for (const name of [FUNCTION, SQL_FUNCTION]) {
        const result = await generate(name, 'again');
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('nothing to migrate');
      }
    });
  });

  it('refuses, before any database work, a pair that exists or would sort before an existing one', async () => {
    const source = await readFunctionSource(join(REPOSITORY, 'sql', 'functions', `${FUNCTION}.sql`));
    const dir = await createTempDir('authdb-pair-');
    try {
      await writeFile(join(dir.path, '20270101000000_x.up.sql'), 'kept\n');
      await writeFile(join(dir.path, '20270101000000_x.down.sql'), 'kept\n');
      const at = (iso: string) => generateFunctionMigration({ source, name: 'x', migrationsDir: dir.path, databaseUrl: 'postgres://never.invalid/none', now: new Date(iso) });
      await expect(at('2027-01-01T00:00:00Z')).rejects.toThrow(`${join(dir.path, '20270101000000_x.up.sql')} already exists; a migration is never overwritten`);
      await expect(at('2026-12-31T00:00:00Z')).rejects.toThrow(`${join(dir.path, '20270101000000_x.up.sql')} sorts after the new 20261231000000_x; the new pair would be out of order`);
      expect((await readdir(dir.path)).sort()).toEqual(['20270101000000_x.down.sql', '20270101000000_x.up.sql']);
    } finally {
      await dir.remove();
    }
  });

  it('never overwrites a file of a pair', async () => {
    const dir = await createTempDir('authdb-pair-');
    try {
      await writeFile(join(dir.path, '20270101000000_x.down.sql'), 'kept\n');
      await expect(writeMigrationPair(dir.path, { stem: '20270101000000_x', up: 'up\n', down: 'down\n' })).rejects.toThrow(
        `${join(dir.path, '20270101000000_x.down.sql')} already exists; a migration is never overwritten`,
      );
      expect(await readdir(dir.path)).toEqual(['20270101000000_x.down.sql']);
      expect(await readFile(join(dir.path, '20270101000000_x.down.sql'), 'utf8')).toBe('kept\n');
    } finally {
      await dir.remove();
    }
  });
});
