import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/migrate/split-statements.js';

describe('splitStatements', () => {
  it('splits on top-level semicolons only, with each statement offset in characters', async () => {
    const sql = [
      '-- authdb:no-transaction',
      'CREATE INDEX CONCURRENTLY a_i ON a (x);',
      "-- é; not a statement",
      "SELECT 'é;', $$ ; $$, \"se;mi\" FROM t; /* ; */ SELECT 2",
      '',
    ].join('\n');
    const statements = await splitStatements(sql);
    expect(statements.map((s) => s.text.trim())).toEqual([
      'CREATE INDEX CONCURRENTLY a_i ON a (x)',
      "SELECT 'é;', $$ ; $$, \"se;mi\" FROM t",
      'SELECT 2',
    ]);
    for (const { text, offset } of statements) expect(sql.slice(offset, offset + text.length)).toBe(text);
  });

  it('returns text the parser rejects whole, for the server to locate the error', async () => {
    expect(await splitStatements('SELECT 1;\nSELECT (;\n')).toEqual([{ text: 'SELECT 1;\nSELECT (;\n', offset: 0 }]);
  });

  it('finds no statement in a file of comments', async () => {
    expect(await splitStatements('-- authdb:no-transaction\n-- nothing yet\n')).toEqual([]);
  });
});
