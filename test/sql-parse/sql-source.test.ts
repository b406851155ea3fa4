import { describe, expect, it } from 'vitest';
import { LineIndex } from '../../src/sql/line-index.js';
import { commentsContaining, parseStatements, skipTrivia, statementText } from '../../src/sql/parse.js';
import { decodeSql, firstInvalidUtf8, type SqlSource } from '../../src/sql/sql-source.js';

function source(text: string | Buffer): SqlSource {
  const outcome = decodeSql('f.sql', typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  if (!outcome.ok) throw new Error(outcome.problem.message);
  return outcome.source;
}

describe('decodeSql', () => {
  it('drops a leading BOM only', () => {
    expect(source('\uFEFFSELECT 1;').text).toBe('SELECT 1;');
    expect(source('\uFEFFSELECT 1;').hadBom).toBe(true);
    expect(source('SELECT 1; -- \uFEFF').text).toBe('SELECT 1; -- \uFEFF');
  });

  it('finds the first invalid byte: stray continuation, overlong, surrogate, truncated sequence', () => {
    const at = (bytes: number[]): number => firstInvalidUtf8(Uint8Array.from(bytes));
    expect(at([0x41, 0x80])).toBe(1);
    expect(at([0x41, 0xc0, 0x80])).toBe(1);
    expect(at([0xe0, 0x80, 0x80])).toBe(0);
    expect(at([0x41, 0xed, 0xa0, 0x80])).toBe(1);
    expect(at([0xc3, 0xa9, 0xf0, 0x9f, 0x99])).toBe(2);
    expect(at([0xc3, 0xa9, 0xf0, 0x9f, 0x99, 0x82])).toBe(6);
  });

  it('names line and byte of a problem, counting a BOM in the first line', () => {
    const outcome = decodeSql('f.sql', Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0xff, 0x0a]));
    expect(outcome).toMatchObject({ ok: false, problem: { line: 1, byteInLine: 5, byteOffset: 4 } });
  });
});

describe('LineIndex', () => {
  const index = new LineIndex(Buffer.from('SELECT 1;\r\nSELECT \'é🙂\', x\nlast', 'utf8'));

  it('maps byte offsets to lines and columns in characters', () => {
    expect(index.lineCount).toBe(3);
    expect(index.position(0)).toEqual({ line: 1, column: 1 });
    expect(index.position(11)).toEqual({ line: 2, column: 1 });
    // "é" is 2 bytes, "🙂" 4: "x" is byte 11 + 17 = 28, character 14 of its line.
    expect(index.position(28)).toEqual({ line: 2, column: 14 });
    expect(index.lineText(1)).toBe('SELECT 1;');
    expect(index.lineText(3)).toBe('last');
  });

  it('turns a character count after a byte offset into a byte offset', () => {
    expect(index.byteOffsetAfter(11, 13)).toBe(28);
  });
});

describe('parseStatements', () => {
  it('gives byte offsets of each first token and end, past comments and multi-byte text', async () => {
    const s = source("-- Größe\nSELECT 'é;' ; /* a ; */\n  -- x\nSELECT 2");
    const parsed = await parseStatements(s);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.statements.map((st) => statementText(s, st))).toEqual(["SELECT 'é;' ", 'SELECT 2']);
    expect(parsed.statements.map((st) => s.lines.position(st.start))).toEqual([
      { line: 2, column: 1 },
      { line: 4, column: 1 },
    ]);
  });

  it('locates a syntax error after multi-byte text (the parser counts characters)', async () => {
    const s = source("SELECT 'é🙂' FROM\n  WHERE;");
    const parsed = await parseStatements(s);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(s.lines.position(parsed.offset)).toEqual({ line: 2, column: 3 });
  });

  it('finds marked comments without scanning the rest of the file, never inside strings', async () => {
    const s = source("SELECT '-- mark';\nSELECT 1; -- mark one\n/* -- mark */ SELECT 2;\n-- mark two\n");
    const parsed = await parseStatements(s);
    if (!parsed.ok) throw new Error(parsed.message);
    const comments = await commentsContaining(s, parsed.statements, 'mark');
    expect(comments.map((c) => [c.text, s.lines.position(c.start).line])).toEqual([
      ['-- mark one', 2],
      ['-- mark two', 4],
    ]);
  });

  it('skips nested block comments', () => {
    const bytes = Buffer.from('/* a /* b */ c */ -- d\n  X');
    expect(skipTrivia(bytes, 0, bytes.length)).toBe(bytes.indexOf('X'));
  });
});
