import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// Every file of a run is parsed before its first statement runs; a
// transactional file that controls the transaction itself is refused with
// its line before anything runs (authdb wraps it in a transaction together
// with its tracking row).

const A = '20260101000001_a';
const B = '20260101000002_b';

let db: TestDatabase;
const dirs: TempDir[] = [];
let schemaIndex = 0;

beforeAll(async () => {
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await db.close();
  await Promise.all(dirs.map((d) => d.remove()));
});

async function setUp(bUp: string): Promise<{ args: string[]; schema: string; dir: string }> {
  const dir = await writeMigrationDir({
    [A]: { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
    [B]: { up: bUp, down: 'DROP TABLE IF EXISTS b_t;\n' },
  });
  dirs.push(dir);
  const schema = `parse_${++schemaIndex}`;
  return { args: ['--database-url', db.url, '--migrations-dir', dir.path, '--schema', schema, '--allow-second-install'], schema, dir: dir.path };
}

async function relations(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ relname: string }>(
    `SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind = 'r' ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

async function tracked(schema: string): Promise<string[]> {
  if ((await relations(schema)).includes('authdb_migrations')) {
    return (await db.pool.query<{ name: string }>(`SELECT name FROM ${schema}.authdb_migrations ORDER BY name`)).rows.map((r) => r.name);
  }
  return [];
}

describe('transaction control in a transactional file', () => {
  const cases = [
    { label: 'BEGIN … COMMIT around the file', sql: "BEGIN;\nCREATE TABLE b_t (id int);\nINSERT INTO b_t VALUES (1);\nCOMMIT;\n", line: 1, command: 'BEGIN' },
    { label: 'COMMIT; BEGIN; in the middle', sql: 'CREATE TABLE b_t (id int);\nCOMMIT;\nBEGIN;\nINSERT INTO b_t VALUES (1);\n', line: 2, command: 'COMMIT' },
    { label: 'COMMIT AND CHAIN', sql: 'CREATE TABLE b_t (id int);\n\nCOMMIT AND CHAIN;\n', line: 3, command: 'COMMIT AND CHAIN' },
    { label: 'END', sql: 'CREATE TABLE b_t (id int);\n  END;\n', line: 2, command: 'COMMIT' },
    { label: 'START TRANSACTION', sql: '-- comment\nSTART TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nCREATE TABLE b_t (id int);\n', line: 2, command: 'START TRANSACTION' },
    { label: 'SAVEPOINT / RELEASE', sql: 'SAVEPOINT s;\nCREATE TABLE b_t (id int);\nRELEASE SAVEPOINT s;\n', line: 1, command: 'SAVEPOINT' },
    { label: 'ROLLBACK', sql: 'CREATE TABLE b_t (id int);\nROLLBACK;\n', line: 2, command: 'ROLLBACK' },
    { label: 'PREPARE TRANSACTION', sql: "CREATE TABLE b_t (id int);\nPREPARE TRANSACTION 'x';\n", line: 2, command: 'PREPARE TRANSACTION' },
  ];

  for (const { label, sql, line, command } of cases) {
    it(`refuses ${label} with its line before anything runs, and on every rerun`, async () => {
      const { args, schema, dir } = await setUp(sql);

      for (let run = 0; run < 2; run++) {
        const result = await runMain(['migrate', 'up', ...args]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`${dir}/${B}.up.sql:${line}:`);
        expect(result.stderr).toContain(`${command} controls the transaction`);
        expect(result.stderr).toContain('[AUTHDB_MIGRATION_FILE]');
        expect(result.stderr).not.toContain('42P07');
      }
      // Nothing ran: not B's table, not even A, which comes before it.
      expect(await relations(schema)).not.toContain('b_t');
      expect(await relations(schema)).not.toContain('a_t');
      expect(await tracked(schema)).toEqual([]);
    });
  }

  it('is refused by --dry-run and flagged by authdb lint at the same line', async () => {
    const { args, dir } = await setUp('CREATE TABLE b_t (id int);\nCOMMIT AND CHAIN;\n');
    expect((await runMain(['migrate', 'up', '--dry-run', ...args])).stderr).toContain(`${dir}/${B}.up.sql:2:1: COMMIT AND CHAIN controls the transaction`);
    const lint = await runMain(['lint', `${dir}/${B}.up.sql`]);
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain(`${B}.up.sql:2:1: error transaction-control: COMMIT AND CHAIN controls the transaction`);
  });

  it('is allowed in a -- authdb:no-transaction file', async () => {
    const { args, schema } = await setUp('-- authdb:no-transaction\nBEGIN;\nCREATE TABLE b_t (id int);\nCOMMIT;\n');
    expect((await runMain(['migrate', 'up', ...args])).code).toBe(0);
    expect(await tracked(schema)).toEqual([A, B]);
    expect((await runMain(['lint', `${dirs.at(-1)?.path}/${B}.up.sql`])).stdout).not.toContain('transaction-control');
  });
});

describe('a file that does not parse', () => {
  it('stops the run before its first statement, naming file:line:column, instead of after the files before it ran', async () => {
    const { args, schema, dir } = await setUp('CREATE TABLE b_t (id int);\n\nCREATE TABLE b2_t (id int,);\n');

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${dir}/${B}.up.sql:3:27: PostgreSQL cannot parse this file: syntax error at or near ")"`);
    expect(await tracked(schema)).toEqual([]);
    expect(await relations(schema)).not.toContain('a_t');
  });
});

describe('files psql accepts: run as psql runs them, or refused before anything runs with the line and what to write instead', () => {
  const refused = [
    { label: 'COPY … FROM stdin with its data block, as pg_dump writes it', sql: 'CREATE TABLE b_t (a int, b text);\nCOPY b_t (a, b) FROM stdin;\n1\tx\n\\.\n', line: 3, says: 'data block of the COPY on line 2' },
    { label: 'COPY … FROM stdin without data (it would wait for the client forever, holding the lock)', sql: 'CREATE TABLE b_t (a int);\nCOPY b_t FROM stdin;\n', line: 2, says: 'write the rows as INSERT … VALUES' },
    { label: 'COPY … TO stdout', sql: 'CREATE TABLE b_t (a int);\nCOPY b_t TO stdout;\n', line: 2, says: 'COPY … TO stdout sends rows to the client' },
    { label: 'a psql meta-command (\\set)', sql: '\\set ON_ERROR_STOP on\nCREATE TABLE b_t (a int);\n', line: 1, says: '\\set is a psql meta-command, not SQL' },
    { label: 'a psql meta-command (\\connect) after SQL', sql: 'CREATE TABLE b_t (a int);\n\\connect other\n', line: 2, says: '\\connect is a psql meta-command, not SQL' },
  ];
  for (const { label, sql, line, says } of refused) {
    it(`refuses ${label}`, async () => {
      const { args, schema, dir } = await setUp(sql);
      const result = await runMain(['migrate', 'up', ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${dir}/${B}.up.sql:${line}:1: `);
      expect(result.stderr).toContain(says);
      expect(result.stderr).toContain('[AUTHDB_MIGRATION_FILE]');
      expect(await tracked(schema)).toEqual([]);
      expect(await relations(schema)).not.toContain('a_t');
    });
  }

  it('a server-side COPY FROM a file is PostgreSQL\'s to allow or refuse, not authdb\'s', async () => {
    const { args, schema } = await setUp("CREATE TABLE b_t (a int);\nCOPY b_t FROM '/nonexistent/authdb-copy-source';\n");
    const result = await runMain(['migrate', 'up', ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('AUTHDB_MIGRATION_FILE');
    expect(result.stderr).toMatch(/58P01|42501/); // no such file, or not allowed to read server files
    expect(await tracked(schema)).toEqual([A]);
  });

  it('an empty file (0 bytes, or only whitespace) applies as psql runs it: a migration that does nothing', async () => {
    for (const sql of ['', '\n  \n']) {
      const { args, schema } = await setUp(sql);
      const result = await runMain(['migrate', 'up', ...args]);
      expect(result.code, result.stderr).toBe(0);
      expect(await tracked(schema)).toEqual([A, B]);
    }
  });
});

describe('standard_conforming_strings: the server reads each statement as authdb parsed it', () => {
  // A file (or the database's default) turning standard_conforming_strings off makes
  // the server split `'a\' , ' ; COMMIT ; -- '` into several commands, a COMMIT among
  // them, where authdb's parser sees one SELECT.
  const smuggled = "SELECT 'a\\' , ' ; COMMIT ; -- '\n;\n";

  it('a hidden COMMIT behind SET standard_conforming_strings = off cannot run: refused before anything runs', async () => {
    const { args, schema } = await setUp(`SET LOCAL standard_conforming_strings = off;\nCREATE TABLE b_t (id int);\n${smuggled}CREATE TABLE b2_t (id int);\n`);

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:1:1: this statement sets standard_conforming_strings`);
    expect(await relations(schema)).not.toContain('b_t');
    expect(await tracked(schema)).toEqual([]);
  });

  it('the same turned off by set_config (no SET to refuse): the smuggled statement still cannot run, the file rolls back whole', async () => {
    const { args, schema } = await setUp(
      `SELECT pg_catalog.set_config('standard_conforming_strings', 'off', true);\nCREATE TABLE b_t (id int);\n${smuggled}CREATE TABLE b2_t (id int);\n`,
    );

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:3:1: a statement before this one (from line 1) changed client_encoding or standard_conforming_strings`);
    expect(await relations(schema)).not.toContain('b_t');
    expect(await relations(schema)).not.toContain('b2_t');
    expect(await tracked(schema)).toEqual([A]);
  });

  it('a database whose default is off migrates as written (the engine sets it on for each file)', async () => {
    const scs = await createEmptyDatabase();
    try {
      await scs.pool.query(`ALTER DATABASE ${scs.name} SET standard_conforming_strings = off`);
      const dir = await writeMigrationDir({ [A]: { up: "CREATE TABLE a_t (v text DEFAULT 'back\\slash');\n", down: 'DROP TABLE a_t;\n' } });
      dirs.push(dir);
      const result = await runMain(['migrate', 'up', '--database-url', scs.url, '--migrations-dir', dir.path, '--schema', 'scs']);
      expect(result.stderr).toContain('applied 1 migration(s)');
      const { rows } = await scs.pool.query<{ d: string }>(
        "SELECT pg_get_expr(adbin, adrelid) AS d FROM pg_attrdef WHERE adrelid = 'scs.a_t'::regclass",
      );
      expect(rows[0]?.d).toBe("'back\\slash'::text");
    } finally {
      await scs.close();
    }
  });
});

describe('client_encoding and standard_conforming_strings: the server reads every statement as authdb parsed it', () => {
  // In SJIS, the bytes of `ぁ\` are two characters and the backslash is gone: E'ぁ\', 1) --' would be a
  // string, then a second value, where authdb's parser (and a reviewer) reads one string.
  const smuggled = "INSERT INTO b_t VALUES (E'ぁ\\', 1) --');\n";
  // With standard_conforming_strings off, 'x\' does not end at its quote: a second column where authdb reads a comment.
  const hidden = "INSERT INTO b_t SELECT 'x\\' --', 1\n;\n";

  for (const [set, name] of [
    ["SET client_encoding = 'SJIS';", 'client_encoding'],
    ["SET NAMES 'SJIS';", 'client_encoding'],
    ["SET LOCAL client_encoding TO 'LATIN1';", 'client_encoding'],
    ['SET standard_conforming_strings = off;', 'standard_conforming_strings'],
    ['SET LOCAL standard_conforming_strings TO false;', 'standard_conforming_strings'],
  ] as const) {
    it(`${set} is refused before anything runs, with its line`, async () => {
      const { args, schema } = await setUp(`CREATE TABLE b_t (a text, b int);\n${set}\n${smuggled}`);

      const result = await runMain(['migrate', 'up', ...args]);

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${B}.up.sql:2:1: this statement sets ${name}, but authdb parses and sends every migration file as UTF-8 with standard_conforming_strings on`);
      expect(result.stderr).toContain('nothing was run');
      expect(await relations(schema)).not.toContain('a_t');
      expect(await tracked(schema)).toEqual([]);
    });
  }

  it('what keeps the reading is allowed: UTF-8 under its names (a pg_dump header sets it), on, RESET, DEFAULT', async () => {
    const { args, schema } = await setUp(
      "CREATE TABLE b_t (a text);\nSET client_encoding = 'UTF8';\nSET NAMES 'utf-8';\nSET client_encoding TO 'unicode';\n" +
        "SET standard_conforming_strings = on;\nRESET client_encoding;\nSET client_encoding TO DEFAULT;\nINSERT INTO b_t VALUES ('é');\n",
    );
    expect((await runMain(['migrate', 'up', ...args])).code).toBe(0);
    expect((await db.pool.query(`SELECT a FROM ${schema}.b_t`)).rows).toEqual([{ a: 'é' }]);
  });

  it('changed by set_config in a transactional file: the file fails where it was seen and is rolled back whole', async () => {
    const { args, schema } = await setUp(`CREATE TABLE b_t (a text, b int);\nSELECT pg_catalog.set_config('client_encoding', 'SJIS', false);\n${smuggled}`);

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:3:1: a statement before this one (from line 1) changed client_encoding or standard_conforming_strings`);
    expect(result.stderr).toContain('The migration was rolled back');
    expect(await relations(schema)).toEqual(['a_t', 'authdb_migrations']);
    expect(await tracked(schema)).toEqual([A]);
  });

  it('changed and changed back within one round trip: the statement in between is still not read otherwise', async () => {
    const { args, schema } = await setUp(
      `CREATE TABLE b_t (a text, b int);\nSELECT pg_catalog.set_config('client_encoding', 'SJIS', false);\n${smuggled}SELECT pg_catalog.set_config('client_encoding', 'UTF8', false);\n`,
    );

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:3:1: a statement before this one`);
    expect(await tracked(schema)).toEqual([A]);
    expect(await relations(schema)).not.toContain('b_t');
  });

  it('standard_conforming_strings turned off by set_config: refused the same way', async () => {
    const { args, schema } = await setUp(`CREATE TABLE b_t (a text, b int);\nSELECT pg_catalog.set_config('standard_conforming_strings', 'off', true);\n${hidden}`);

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:3:1: a statement before this one`);
    expect(await relations(schema)).not.toContain('b_t');
  });

  it('a file that drops the session’s prepared statements (DEALLOCATE ALL, DISCARD ALL) still runs as written', async () => {
    const { args, schema } = await setUp("CREATE TABLE b_t (a text);\nDEALLOCATE ALL;\nINSERT INTO b_t VALUES ('é');\nDISCARD PLANS;\nINSERT INTO b_t VALUES ('\\ü');\n");
    const result = await runMain(['migrate', 'up', ...args]);
    expect(result.stderr).toContain('applied 2 migration(s)');
    expect((await db.pool.query(`SELECT a FROM ${schema}.b_t ORDER BY a`)).rows).toEqual([{ a: '\\ü' }, { a: 'é' }]);
  });

  it('changed at the end of a file: seen before it commits', async () => {
    const { args, schema } = await setUp("CREATE TABLE b_t (a text);\nSELECT pg_catalog.set_config('client_encoding', 'LATIN1', false);\n");

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('one of the statements from line 1 to line 2 changed client_encoding to LATIN1');
    expect(await tracked(schema)).toEqual([A]);
  });

  it('changed in a no-transaction file: the statements after it do not run', async () => {
    const dir = await writeMigrationDir({
      [A]: { up: 'CREATE TABLE a_t (v text);\n', down: 'DROP TABLE a_t;\n' },
      [B]: { up: "-- authdb:no-transaction\nDO $$ BEGIN PERFORM pg_catalog.set_config('client_encoding', 'LATIN1', false); END $$;\nINSERT INTO a_t VALUES ('é');\n", down: 'SELECT 1;\n' },
    });
    dirs.push(dir);
    const schema = `parse_${++schemaIndex}`;
    const args = ['--database-url', db.url, '--migrations-dir', dir.path, '--schema', schema, '--allow-second-install'];

    const result = await runMain(['migrate', 'up', ...args]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${B}.up.sql:3:1: the statement before this one changed client_encoding to LATIN1`);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ${schema}.a_t`)).rows).toEqual([{ n: 0 }]);
  });
});
