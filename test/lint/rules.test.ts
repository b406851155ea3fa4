import { describe, expect, it } from 'vitest';
import { lintSql, type LintReport } from '../../src/lint/lint.js';

// Every rule on a bad migration (flagged, at the right line), its safe
// variant (not flagged), and the bad one suppressed with a reason.

function lint(sql: string, path = '20260101000001_x.up.sql', indexTables?: ReadonlyMap<string, string>): Promise<LintReport> {
  return lintSql({ path, sql, ...(indexTables && { indexTables }) });
}

async function rulesAt(sql: string, path?: string): Promise<string[]> {
  return (await lint(sql, path)).findings.map((f) => `${f.line}:${f.rule}`);
}

interface Case {
  readonly rule: string;
  /** A bad statement on line 2 (line 1 is a comment). */
  readonly bad: string;
  /** The same intent written safely. */
  readonly good: string;
  readonly path?: string;
}

const NO_TX = '-- authdb:no-transaction\n';

const CASES: readonly Case[] = [
  { rule: 'index-without-concurrently', bad: 'CREATE INDEX users_email_idx ON users (email);', good: `${NO_TX}CREATE INDEX CONCURRENTLY users_email_idx ON users (email);` },
  { rule: 'index-without-concurrently', bad: 'DROP INDEX users_email_idx;', good: `${NO_TX}DROP INDEX CONCURRENTLY users_email_idx;` },
  { rule: 'concurrently-in-transaction', bad: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);', good: `${NO_TX}CREATE INDEX CONCURRENTLY users_email_idx ON users (email);` },
  { rule: 'concurrently-in-transaction', bad: 'REINDEX (CONCURRENTLY) INDEX users_email_idx;', good: `${NO_TX}REINDEX (CONCURRENTLY) INDEX users_email_idx;` },
  { rule: 'not-null-column-without-default', bad: 'ALTER TABLE users ADD COLUMN locale text NOT NULL;', good: "ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en';" },
  { rule: 'set-not-null', bad: 'ALTER TABLE users ALTER COLUMN phone SET NOT NULL;', good: 'ALTER TABLE users ADD CONSTRAINT users_phone_nn CHECK (phone IS NOT NULL) NOT VALID;' },
  { rule: 'constraint-without-not-valid', bad: 'ALTER TABLE users ADD CONSTRAINT users_phone_len CHECK (char_length(phone) < 20);', good: 'ALTER TABLE users ADD CONSTRAINT users_phone_len CHECK (char_length(phone) < 20) NOT VALID;' },
  { rule: 'constraint-without-not-valid', bad: 'ALTER TABLE users ADD CONSTRAINT users_role_fkey FOREIGN KEY (role) REFERENCES roles (name);', good: 'ALTER TABLE users ADD CONSTRAINT users_role_fkey FOREIGN KEY (role) REFERENCES roles (name) NOT VALID;' },
  { rule: 'column-type-change', bad: 'ALTER TABLE users ALTER COLUMN id TYPE bigint;', good: 'ALTER TABLE users ADD COLUMN id_big bigint;' },
  { rule: 'drop-table-in-up', bad: 'DROP TABLE legacy_sessions;', good: 'DROP TABLE legacy_sessions;', path: '20260101000001_x.down.sql' },
  { rule: 'drop-column-in-up', bad: 'ALTER TABLE users DROP COLUMN phone;', good: 'ALTER TABLE users DROP COLUMN phone;', path: '20260101000001_x.down.sql' },
  { rule: 'rename-in-up', bad: 'ALTER TABLE users RENAME COLUMN email TO mail;', good: 'ALTER TABLE users ADD COLUMN mail text;' },
  { rule: 'rename-in-up', bad: 'ALTER TABLE users RENAME TO accounts;', good: 'ALTER TABLE accounts RENAME TO users;', path: '20260101000001_x.down.sql' },
  {
    rule: 'security-definer-search-path',
    bad: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$; REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;',
    good: 'CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$ SELECT 1 $$; REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;',
  },
  {
    rule: 'function-public-execute',
    bad: 'CREATE FUNCTION add(a integer, b int DEFAULT 1, OUT c int) LANGUAGE sql AS $$ SELECT a + b $$;',
    good: 'CREATE FUNCTION add(a integer, b int DEFAULT 1, OUT c int) LANGUAGE sql AS $$ SELECT a + b $$;\nREVOKE ALL ON FUNCTION add(int4, integer) FROM PUBLIC;',
  },
  { rule: 'timestamp-without-time-zone', bad: 'CREATE TABLE events (id int, at timestamp NOT NULL);', good: 'CREATE TABLE events (id int, at timestamptz NOT NULL);' },
  { rule: 'timestamp-without-time-zone', bad: 'ALTER TABLE users ADD COLUMN seen_at timestamp(3) without time zone;', good: 'ALTER TABLE users ADD COLUMN seen_at timestamp(3) with time zone;' },
  { rule: 'char-varchar-length', bad: 'CREATE TABLE codes (code char(2) PRIMARY KEY);', good: 'CREATE TABLE codes (code text PRIMARY KEY CHECK (char_length(code) = 2));' },
  { rule: 'char-varchar-length', bad: 'CREATE DOMAIN email AS character varying(254);', good: 'CREATE DOMAIN email AS text;' },
];

describe('lint rules', () => {
  for (const c of CASES) {
    it(`${c.rule}: flags \`${c.bad.slice(0, 60)}\`, not its safe variant, and honours a suppression with a reason`, async () => {
      const bad = await lint(`-- a migration\n${c.bad}\n`);
      expect(bad.findings.map((f) => `${f.line}:${f.rule}`)).toContain(`2:${c.rule}`);
      const finding = bad.findings.find((f) => f.rule === c.rule);
      expect(finding?.severity).toBe('error');
      expect(finding?.message.length).toBeGreaterThan(40);

      expect((await lint(c.good, c.path)).findings.filter((f) => f.rule === c.rule)).toEqual([]);

      const suppressed = await lint(`-- a migration\n-- authdb-lint-ignore ${c.rule}: reviewed, the table is tiny\n${c.bad}\n`);
      expect(suppressed.findings.filter((f) => f.rule === c.rule)).toEqual([]);
      expect(suppressed.suppressed).toContainEqual(expect.objectContaining({ rule: c.rule, line: 3, reason: 'reviewed, the table is tiny' }));
    });
  }
});

describe('what counts as an existing table', () => {
  it('does not flag statements on a table created earlier in the same file', async () => {
    const sql = [
      'CREATE TABLE t (id int, email text);',
      'CREATE INDEX t_email_idx ON t (email);',
      'ALTER TABLE t ALTER COLUMN email SET NOT NULL, ALTER COLUMN id TYPE bigint;',
      'ALTER TABLE t ADD COLUMN locale text NOT NULL, ADD CONSTRAINT t_locale CHECK (locale <> \'\');',
      'ALTER TABLE t RENAME COLUMN locale TO lang;',
      'DROP INDEX t_email_idx;',
      'DROP TABLE t;',
    ].join('\n');
    expect(await rulesAt(sql)).toEqual([]);
  });

  it('flags the same statements when the table comes first in a later statement', async () => {
    expect(await rulesAt('CREATE INDEX t_email_idx ON t (email);\nCREATE TABLE t (id int, email text);')).toEqual(['1:index-without-concurrently']);
  });

  it('does not flag DROP INDEX when the file drops its table too (a down migration), using other files to know the table', async () => {
    const down = 'DROP INDEX users_phone_key;\nDROP TABLE users;';
    const fromUp = new Map([['users_phone_key', 'users']]);
    expect((await lint(down, '20260101000001_x.down.sql', fromUp)).findings).toEqual([]);
    expect((await lint(down, '20260101000001_x.down.sql')).findings.map((f) => f.rule)).toEqual(['index-without-concurrently']);
  });
});

describe('suppressions', () => {
  const BAD = 'CREATE INDEX users_email_idx ON users (email);';

  it('applies on the same line, on the line before, before a multi-line statement, or to the whole file', async () => {
    expect((await lint(`${BAD} -- authdb-lint-ignore index-without-concurrently: empty table\n`)).findings).toEqual([]);
    expect((await lint(`SELECT 1;\n-- authdb-lint-ignore index-without-concurrently: a reason\n-- more words about it\nCREATE INDEX users_email_idx\n  ON users (email);`)).findings).toEqual([]);
    expect((await lint(`-- authdb-lint-ignore-file index-without-concurrently, set-not-null: users is empty at this point\n${BAD}\n${BAD}\nALTER TABLE users ALTER COLUMN email SET NOT NULL;`)).findings).toEqual([]);
  });

  it('does not reach past the statement it precedes', async () => {
    const report = await lint(`-- authdb-lint-ignore index-without-concurrently: only the first\n${BAD}\nSELECT 1;\n${BAD}\n`);
    expect(report.findings.map((f) => `${f.line}:${f.rule}`)).toEqual(['4:index-without-concurrently']);
  });

  it('rejects a suppression without a reason, and keeps the finding', async () => {
    const report = await lint(`-- authdb-lint-ignore index-without-concurrently\n${BAD}\n-- authdb-lint-ignore index-without-concurrently:   \n${BAD}\n`);
    expect(report.findings.map((f) => `${f.line}:${f.severity}:${f.rule}`)).toEqual([
      '1:error:lint-ignore-without-reason',
      '2:error:index-without-concurrently',
      '3:error:lint-ignore-without-reason',
      '4:error:index-without-concurrently',
    ]);
    expect(report.findings[0]?.message).toContain('has no reason');
  });

  it('rejects unknown rule ids and warns about suppressions that suppress nothing', async () => {
    const report = await lint(`-- authdb-lint-ignore no-such-rule: because\nSELECT 1;\n-- authdb-lint-ignore set-not-null: not needed\nSELECT 2;\n`);
    expect(report.findings.map((f) => `${f.line}:${f.severity}:${f.rule}`)).toEqual(['1:error:lint-ignore-unknown-rule', '3:warning:unused-lint-ignore']);
  });

  it('ignores look-alike comments inside strings and function bodies', async () => {
    const sql = `CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '-- authdb-lint-ignore nonsense' $$;\nREVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;`;
    expect((await lint(sql)).findings).toEqual([]);
  });
});

describe('locations', () => {
  it('reports lines and columns in characters even after multi-byte text', async () => {
    const report = await lint(`-- Größe, “quotes” and emoji 🙂\nCREATE TABLE t (\n  name  varchar(10),\n  é     timestamp\n);`);
    expect(report.findings.map((f) => `${f.line}:${f.column}:${f.rule}`)).toEqual(['3:9:char-varchar-length', '4:9:timestamp-without-time-zone']);
  });

  it('reports a syntax error as parse-error at its line', async () => {
    const report = await lint('SELECT 1;\n\nCREATE TABLE t (id int,);\n');
    expect(report.findings).toEqual([expect.objectContaining({ rule: 'parse-error', line: 3, message: expect.stringContaining('syntax error at or near ")"') as string })]);
  });
});
