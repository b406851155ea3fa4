import fc from 'fast-check';
import { loadModule, parse, type SqlError } from 'libpg-query';
import { beforeAll, expect, it } from 'vitest';
import { parseStatements, skipTrivia } from '../../src/sql/parse.js';
import { decodeSql, type SqlSource } from '../../src/sql/sql-source.js';

// Differential fuzz: a large file parsed in pieces against one parse of the whole file, on files of
// tricky statements with CRLF and multibyte text, with a breaking fragment (quote, dollar quote,
// comment opener, bad keyword, paren) inserted at a random character. FUZZ_RUNS for a longer run.

const PARTS = [
  "INSERT INTO t VALUES (1, 'é;\n€;\r\n');\n",
  'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\nBEGIN\n  PERFORM $$;\n$$;\n  RETURN 2;\nEND\n$fn$;\n',
  'CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\r\n',
  'CREATE RULE r AS ON INSERT TO t DO ALSO (\n  NOTIFY t;\n  NOTIFY u;\n);\n',
  '/* a /* nested; */ block comment;\n*/ SELECT 3;\n',
  'SELECT 4 -- the end of the line;\n  + 5;\n',
  "SELECT E'esc \\' 😀;\n', U&'\\0041;\n';\n",
  'SELECT "a;\nquoted" FROM t;\r\n',
  ';\n',
  'SELECT 6;',
  ' SELECT 7 ;\n',
  "SELECT 'a'\n';\n';\n",
] as const;
const BREAKERS = ["'", '$$', '/*', 'SELEC ', ')', '"', "E'\\", 'BEGIN ATOMIC ', '(', 'CREATE ASSERTION a CHECK (true);\n'] as const;

function source(text: string): SqlSource {
  const outcome = decodeSql('f.sql', Buffer.from(text, 'utf8'));
  if (!outcome.ok) throw new Error(outcome.problem.message);
  return outcome.source;
}

async function wholeFile(text: string): Promise<unknown> {
  const src = source(text);
  if (text.trim() === '') return [];
  try {
    const tree = await parse(text);
    return (tree.stmts ?? []).map((raw) => {
      const location = raw.stmt_location ?? 0;
      const end = raw.stmt_len ? location + raw.stmt_len : src.bytes.length;
      return { type: Object.keys(raw.stmt ?? {})[0] ?? '', start: skipTrivia(src.bytes, location, end), end };
    });
  } catch (error) {
    return { offset: src.lines.byteOffsetAfter(0, (error as SqlError).sqlDetails?.cursorPosition ?? 0), message: (error as Error).message };
  }
}

async function inPieces(text: string): Promise<unknown> {
  const o = await parseStatements(source(text));
  return o.ok ? o.statements.map(({ type, start, end }) => ({ type, start, end })) : { offset: o.offset, message: o.message };
}

beforeAll(async () => {
  await loadModule();
});

it('pieces equal one whole-file parse, with a breaker at a random character (or none)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
      fc.option(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat())),
      fc.integer({ min: 260, max: 700 }),
      async (picks, breaker, kib) => {
        const parts: string[] = [];
        for (let size = 0, i = 0; size < kib * 1024; i++) {
          const p = PARTS[(picks[i % picks.length] ?? 0) % PARTS.length] ?? '';
          parts.push(p);
          size += p.length;
        }
        let text = parts.join('');
        if (breaker) {
          // Code points on purpose: the breaker goes between two characters, never inside a UTF-8 sequence.
          // eslint-disable-next-line @typescript-eslint/no-misused-spread
          const chars = [...text];
          const at = Math.floor(breaker[0] * chars.length);
          text = chars.slice(0, at).join('') + (BREAKERS[breaker[1] % BREAKERS.length] ?? '') + chars.slice(at).join('');
        }
        expect(await inPieces(text)).toEqual(await wholeFile(text));
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 25) },
  );
}, 600_000);
