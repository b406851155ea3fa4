// Generates the Unicode data of authdb's canonical e-mail form: the sources
// of authdb_email_unassigned_pattern() and authdb_email_lower(text) in
// sql/functions/.  Their first version is in migrations/20261125000002_users.up.sql
// (released in 0.1.0, never changed again); a new version ships as an upgrade
// migration generated from the sources (npm run migration:function).
//
//   npx tsx scripts/generate-email-unicode-sql.ts [--check] [path/to/DerivedAge.txt]
//
// Inputs (generation time only; the migration ships the result as SQL):
//   * DerivedAge.txt of the Unicode Character Database, any version >= 13.0
//     (Debian: `apt-get install unicode-data` puts it in /usr/share/unicode/).
//     Only the code points assigned in Unicode 13.0 -- the version of
//     PostgreSQL 14's normalize(), the oldest supported server -- are accepted
//     in an address.  Unicode's normalization stability policy guarantees that
//     NFC/NFKC of such strings is the same on every later version, hence the
//     same on PostgreSQL 14 to 18.
//   * Node's String.prototype.toLowerCase, applied to one code point at a
//     time: the lower-case mapping table.  Only mappings whose source and
//     result are assigned in Unicode 13.0 are kept.
//
// --check exits 1 when a source differs from what the script generates.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The functions' reviewed sources; migration 20261125000002_users, released in 0.1.0, holds their first version. */
const SOURCES = fileURLToPath(new URL('../sql/functions/', import.meta.url));
/** Default is Debian's unicode-data package. */
const DEFAULT_DERIVED_AGE = '/usr/share/unicode/DerivedAge.txt';
/** The Unicode version of PostgreSQL 14, the oldest supported server. */
const MAX_AGE = [13, 0] as const;

type Range = readonly [number, number];

/** Blocks of the lower-case table: Latin, Greek and Cyrillic, the rest of the BMP letters, symbols and fullwidth, supplementary planes. */
const BLOCKS: readonly Range[] = [
  [0x80, 0x24f],
  [0x250, 0x52f],
  [0x530, 0x1fff],
  [0x2000, 0xffff],
  [0x10000, 0x10ffff],
];

function assignedRanges(derivedAge: string): Range[] {
  const ranges: Range[] = [];
  for (const raw of derivedAge.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const match = /^([0-9A-F]+)(?:\.\.([0-9A-F]+))?\s*;\s*(\d+)\.(\d+)$/.exec(line);
    if (!match) throw new Error(`DerivedAge.txt: cannot parse ${JSON.stringify(raw)}`);
    const [, from = '', to, major = '', minor = ''] = match;
    const age = [Number(major), Number(minor)] as const;
    if (age[0] > MAX_AGE[0] || (age[0] === MAX_AGE[0] && age[1] > MAX_AGE[1])) continue;
    ranges.push([parseInt(from, 16), parseInt(to ?? from, 16)]);
  }
  return ranges;
}

/** Assigned, not a surrogate, not a noncharacter. */
function allowedSet(ranges: readonly Range[]): Uint8Array {
  const allowed = new Uint8Array(0x110000);
  for (const [from, to] of ranges) allowed.fill(1, from, to + 1);
  allowed.fill(0, 0xd800, 0xe000);
  allowed.fill(0, 0xfdd0, 0xfdf0);
  for (let plane = 0; plane <= 0x10; plane++) allowed.fill(0, plane * 0x10000 + 0xfffe, plane * 0x10000 + 0x10000);
  allowed[0] = 0;
  return allowed;
}

/** Maximal runs of code points that are NOT allowed, surrogates excluded (they cannot occur in text). */
function refusedRanges(allowed: Uint8Array): Range[] {
  const out: Range[] = [];
  let start = -1;
  for (let c = 1; c <= 0x110000; c++) {
    const refused = c < 0x110000 && !allowed[c] && !(c >= 0xd800 && c < 0xe000);
    if (refused && start < 0) start = c;
    if (!refused && start >= 0 && !(c >= 0xd800 && c < 0xe000)) {
      out.push([start, c - 1]);
      start = -1;
    }
  }
  return mergeAcrossSurrogates(out);
}

function mergeAcrossSurrogates(ranges: Range[]): Range[] {
  // Runs that touch the surrogate block on both sides stay split; nothing to merge.
  return ranges.filter(([from, to]) => !(from >= 0xd800 && to < 0xe000));
}

/** `\uXXXX` or `\UXXXXXXXX`: a regex (ARE) escape, ASCII only. */
function regexEscape(c: number): string {
  return c <= 0xffff ? `\\\\u${c.toString(16).padStart(4, '0')}` : `\\\\U${c.toString(16).padStart(8, '0')}`;
}

/** The same escape for an E'' string literal. */
function literalEscape(c: number): string {
  return c <= 0xffff ? `\\u${c.toString(16).padStart(4, '0')}` : `\\U${c.toString(16).padStart(8, '0')}`;
}

/** The code points of a string (Array.from iterates by code point, as intended here). */
function codePoints(s: string): number[] {
  return Array.from(s, (ch) => ch.codePointAt(0) ?? 0);
}

function lowerCaseMappings(allowed: Uint8Array): { from: number[]; to: number[]; special: Map<number, number[]> } {
  const from: number[] = [];
  const to: number[] = [];
  const special = new Map<number, number[]>();
  for (let c = 1; c < 0x110000; c++) {
    if (!allowed[c]) continue;
    const s = String.fromCodePoint(c);
    const lower = codePoints(s.toLowerCase());
    if (lower.length === 1 && lower[0] === c) continue;
    if (!lower.every((l) => allowed[l])) continue;
    // The result must be a fixed point, or the mapping would not be idempotent.
    const again = codePoints(String.fromCodePoint(...lower).toLowerCase());
    if (again.join() !== lower.join()) throw new Error(`lower-case of U+${c.toString(16)} is not stable`);
    if (c < 0x80 && !(c >= 0x41 && c <= 0x5a)) throw new Error(`unexpected ASCII mapping U+${c.toString(16)}`);
    if (c < 0x80 && lower.some((l) => l >= 0x80)) throw new Error('an ASCII letter would become non-ASCII');
    if (c < 0x80) continue; // A-Z: translated first, without the table
    if (lower.length === 1) {
      from.push(c);
      to.push(lower[0] ?? 0);
    } else special.set(c, lower);
  }
  return { from, to, special };
}

function wrap(parts: readonly string[], indent: string, width = 96): string {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    if (line.length + part.length > width) {
      lines.push(line);
      line = '';
    }
    line += part;
  }
  if (line) lines.push(line);
  // One literal: E'…' then '…' continuation lines (concatenated by the lexer,
  // in the same escape mode), so nothing is concatenated at run time.
  return lines.map((l, i) => `${indent}${i === 0 ? 'E' : ''}'${l}'`).join('\n');
}

/** The source of each generated function (sql/functions/<name>.sql). */
function generate(derivedAge: string): Readonly<Record<string, string>> {
  const allowed = allowedSet(assignedRanges(derivedAge));
  const refused = refusedRanges(allowed);
  const { from, to, special } = lowerCaseMappings(allowed);
  if ([...special.keys()].join() !== '304') throw new Error(`unexpected multi-code-point lower-case mappings: ${[...special.keys()].join()}`);
  const pattern = refused.map(([a, b]) => (a === b ? regexEscape(a) : `${regexEscape(a)}-${regexEscape(b)}`));
  const header = [
    '-- Written by scripts/generate-email-unicode-sql.ts; do not edit by hand.',
    `-- ${String(refused.length)} ranges refused, ${String(from.length)} one-to-one lower-case mappings.`,
    '',
  ];
  const unassignedPattern = [
    ...header,
    '-- authdb_email_unassigned_pattern() -> a regular expression (ARE) matching',
    '-- every code point that is not a character assigned in Unicode 13.0 (the',
    '-- version of PostgreSQL 14, the oldest supported server): unassigned code',
    '-- points and noncharacters.  Only ASCII in the source: \\uXXXX escapes of',
    '-- the regex engine, not of the string literal.',
    'CREATE OR REPLACE FUNCTION authdb_email_unassigned_pattern()',
    'RETURNS text',
    'LANGUAGE plpgsql',
    'IMMUTABLE',
    'PARALLEL SAFE',
    'SET search_path FROM CURRENT',
    'AS $function$',
    'BEGIN',
    '    RETURN',
    wrap(['[', ...pattern, ']'], '        ') + '::text;',
    'END;',
    '$function$;',
    '',
    "COMMENT ON FUNCTION authdb_email_unassigned_pattern() IS",
    "    'Private. Regular expression matching the code points that are not characters assigned in Unicode 13.0 (generated).';",
    'REVOKE EXECUTE ON FUNCTION authdb_email_unassigned_pattern() FROM PUBLIC;',
  ];
  const lower = [
    ...header,
    '-- authdb_email_lower(p_value) -> p_value with every letter mapped to lower',
    '-- case by a fixed table: Unicode\'s lower-case mapping (as Node\'s',
    '-- toLowerCase gives it for one code point), restricted to characters',
    '-- assigned in Unicode 13.0.  A-Z become a-z; no ASCII letter becomes',
    '-- anything else; U+0130 (capital I with dot) becomes "i" + U+0307.  It uses',
    '-- replace() and translate() only, so neither the database collation nor',
    '-- the ICU or libc version can change the result.',
    'CREATE OR REPLACE FUNCTION authdb_email_lower(p_value text)',
    'RETURNS text',
    'LANGUAGE plpgsql',
    'IMMUTABLE',
    'STRICT',
    'PARALLEL SAFE',
    'SET search_path FROM CURRENT',
    'AS $function$',
    'DECLARE',
    '    v_value text := pg_catalog.translate(p_value, \'ABCDEFGHIJKLMNOPQRSTUVWXYZ\'::text, \'abcdefghijklmnopqrstuvwxyz\'::text);',
    'BEGIN',
    '    -- translate() scans its second argument once per input character, so',
    '    -- the table is cut into blocks of code points, each applied only to a',
    '    -- string that holds a character of that block.  The blocks can be',
    '    -- applied one after the other because no result is itself mapped.',
    `    v_value := pg_catalog.replace(v_value, E'\\u0130'::text, E'i\\u0307'::text);`,
    ...BLOCKS.flatMap(([low, high]) => {
      const pairs = from.map((f, i) => [f, to[i] ?? 0] as const).filter(([f]) => f >= low && f <= high);
      if (pairs.length === 0) return [];
      return [
        `    IF v_value OPERATOR(pg_catalog.~) E'[${regexEscape(low)}-${regexEscape(high)}]'::text THEN`,
        '        v_value := pg_catalog.translate(v_value,',
        wrap(pairs.map(([f]) => literalEscape(f)), '            ') + '::text,',
        wrap(pairs.map(([, t]) => literalEscape(t)), '            ') + '::text);',
        '    END IF;',
      ];
    }),
    '    RETURN v_value;',
    'END;',
    '$function$;',
    '',
    "COMMENT ON FUNCTION authdb_email_lower(text) IS",
    "    'Private. Lower-cases p_value with a fixed table (Unicode lower-case mapping of the characters of Unicode 13.0, generated); independent of collation and ICU.';",
    'REVOKE EXECUTE ON FUNCTION authdb_email_lower(text) FROM PUBLIC;',
  ];
  return { authdb_email_unassigned_pattern: `${unassignedPattern.join('\n')}\n`, authdb_email_lower: `${lower.join('\n')}\n` };
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const derivedAgePath = args.find((a) => a !== '--check') ?? DEFAULT_DERIVED_AGE;
  for (const [name, text] of Object.entries(generate(readFileSync(derivedAgePath, 'utf8')))) {
    const path = join(SOURCES, `${name}.sql`);
    if (!check) {
      writeFileSync(path, text);
      console.log(`${path}: written; ship it with npm run migration:function -- ${name} NAME (README "Releases and upgrades")`);
    } else if (readFileSync(path, 'utf8') !== text) {
      console.error(`${path}: out of date; run npx tsx scripts/generate-email-unicode-sql.ts`);
      process.exitCode = 1;
    }
  }
}

main();
