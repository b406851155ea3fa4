import fc from 'fast-check';
import { loadModule, parse, type SqlError } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStatementOutlines, parseStatements, skipTrivia } from '../../src/sql/parse.js';
import { decodeSql, type SqlSource } from '../../src/sql/sql-source.js';

// A file over 64 KiB is parsed in pieces, each ending at a `;` before white
// space or a comment that the parser agrees ends a statement. These files put such `;`s
// where they end nothing — in strings, comments, function bodies, BEGIN ATOMIC
// and rule actions — and compare every statement with one parse of the whole
// file, as PostgreSQL's parser reads it.

/** Statements whose text holds a `;` before white space or a comment that does not end them. */
const TRICKY = [
  "INSERT INTO t (a, b) VALUES (1, 'one;\ntwo;\n');\n",
  'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  RETURN 2;\nEND\n$$;\n',
  'CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n',
  'CREATE RULE r AS ON INSERT TO t DO ALSO (\n  NOTIFY t;\n  NOTIFY u;\n);\n',
  '/* a block comment;\n  still it;\n*/ SELECT 3;\n',
  'SELECT 4 -- the end of the line;\n  + 5;\n',
  "SELECT E'escaped \\' quote;\n';\n",
  'SELECT "a;\nquoted identifier" FROM t;\n',
  "SELECT $tag$ dollar ; $$ ;\n$tag$;\n",
  ';\n',
  'SELECT 6;\n',
  "UPDATE t SET b = 'x' WHERE a = 1;\n",
  // Statements that end with white space or a comment after their `;`, or share a line.
  'SELECT 7; SELECT 8;  \n',
  'SELECT 9; -- done; or not;\n',
  "SELECT 'x; y' ; SELECT 10;\t\n",
  "SELECT 11 -- a comment; with -- inside\n;\n",
] as const;

function source(text: string): SqlSource {
  const outcome = decodeSql('f.sql', Buffer.from(text, 'utf8'));
  if (!outcome.ok) throw new Error(outcome.problem.message);
  return outcome.source;
}

/** What one parse of the whole file gives: each statement's type and byte range, or the error's byte offset. */
async function wholeFile(text: string): Promise<{ type: string; start: number; end: number }[] | { offset: number }> {
  const bytes = Buffer.from(text, 'utf8');
  try {
    const tree = await parse(text);
    return (tree.stmts ?? []).map((raw) => {
      const location = raw.stmt_location ?? 0;
      const end = raw.stmt_len ? location + raw.stmt_len : bytes.length;
      return { type: Object.keys(raw.stmt ?? {})[0] ?? '', start: skipTrivia(bytes, location, end), end };
    });
  } catch (error) {
    const characters = (error as SqlError).sqlDetails?.cursorPosition ?? 0;
    // The files here are ASCII: a character is a byte.
    return { offset: characters };
  }
}

async function inPieces(text: string): Promise<{ type: string; start: number; end: number }[] | { offset: number }> {
  const outcome = await parseStatements(source(text));
  return outcome.ok ? outcome.statements.map(({ type, start, end }) => ({ type, start, end })) : { offset: outcome.offset };
}

/** About `bytes` of statements, drawn from {@link TRICKY} in the order `picks` gives. */
function fileOf(picks: readonly number[], bytes: number): string {
  const parts: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const part = TRICKY[(picks[i % picks.length] ?? 0) % TRICKY.length] ?? '';
    parts.push(part);
    size += part.length;
  }
  return parts.join('');
}

beforeAll(async () => {
  await loadModule();
});

describe('a large file parsed in pieces', () => {
  it('gives the statements one parse of the whole file gives, whatever falls at a piece boundary', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), async (picks) => {
        const text = fileOf(picks, 700 * 1024);
        expect(await inPieces(text)).toEqual(await wholeFile(text));
      }),
      { numRuns: 15 },
    );
  });

  it('finds a syntax error where one parse of the whole file finds it, wherever it is', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 1, noNaN: true }), async (picks, where) => {
        const good = fileOf(picks, 600 * 1024);
        // Just after a line break, so that the error is never inside a string or body by accident… or is it: either way both agree.
        const at = good.indexOf('\n', Math.floor(where * good.length)) + 1;
        const text = `${good.slice(0, at)}SELEC oops;\n${good.slice(at)}`;
        const pieces = await inPieces(text);
        expect(pieces).toEqual(await wholeFile(text));
      }),
      { numRuns: 10 },
    );
  });

  it('an unterminated string at the end is the error one parse of the whole file reports', async () => {
    const text = `${fileOf([10], 400 * 1024)}SELECT 'never closed;\n`;
    expect(await inPieces(text)).toEqual(await wholeFile(text));
    expect(await inPieces(text)).toHaveProperty('offset');
  });

  it('outlines keep the type, position and table of row statements, and every other statement whole', async () => {
    const text = fileOf([0, 1, 11], 1100 * 1024);
    const outlines = await parseStatementOutlines(source(text));
    const whole = await parseStatements(source(text));
    if (!outlines.ok || !whole.ok) throw new Error('the file should parse');
    expect(outlines.statements.map((s) => [s.type, s.start, s.end])).toEqual(whole.statements.map((s) => [s.type, s.start, s.end]));
    const insert = outlines.statements.find((s) => s.type === 'InsertStmt');
    expect(Object.keys(insert?.body ?? {})).toEqual(['relation']);
    expect(insert?.body.relation).toMatchObject({ relname: 't' });
    const fn = outlines.statements.find((s) => s.type === 'CreateFunctionStmt');
    expect(fn?.body).toEqual(whole.statements.find((s) => s.type === 'CreateFunctionStmt')?.body);
  });
});

describe('a statement that nests too deeply for the parser', () => {
  // 20,000 chained `+` overflow the WebAssembly parser's stack: no syntax error, a RangeError.
  const deep = `SELECT 1${' + 1'.repeat(20_000)};\n`;

  it('is reported as the parser giving up, on the lines of the piece that holds it, after one attempt', async () => {
    const before = fileOf([10], 300 * 1024);
    const text = `${before}${deep}${fileOf([10], 10 * 1024)}`;
    const src = source(text);
    const outcome = await parseStatements(src);
    if (outcome.ok) throw new Error('the file should not parse');
    expect(outcome.message).toMatch(/^the SQL parser gave up in the statements from this line to line (\d+) \(Maximum call stack size exceeded\): a statement nests too deeply/);
    const deepLine = src.lines.lineOf(Buffer.byteLength(before));
    const [, last] = /to line (\d+)/.exec(outcome.message) ?? [];
    expect(src.lines.lineOf(outcome.offset)).toBeLessThanOrEqual(deepLine);
    expect(Number(last)).toBeGreaterThanOrEqual(deepLine);
    // It is not taken for a syntax error at the start of an innocent statement.
    expect(outcome.message).not.toContain('syntax error');
  });
});
