// Property-based tests of canonical_email() with fast-check, on the default
// database and on a Turkish ICU collation database:
//   * for arbitrary strings, the canonical form is idempotent (or the string
//     is refused with AU005/AU009, never another error);
//   * two spellings with the same canonical form reach the same user, through
//     register_user_with_token and the typed client's findUserByEmail.
import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, type AuthDb } from '../../src/index.js';
import { createMigratedDatabase, createMigratedTurkishDatabase, type TestDatabase } from '../support/database.js';
import { createTryFullCanonical, register, single } from './helpers.js';

/** Default is a few thousand canonicalisations per flavour, in seconds. */
const IDEMPOTENCE_RUNS = 2000;
const SAME_USER_RUNS = 200;

/** Characters that exercise NFC/NFKC, case mapping, Turkish and Greek special cases, IDNA dots and ACE. */
const TRICKY = [
  'a', 'I', 'i', 'Z', '0', '-', '.', '_', '+', '@', ' ', '\t',
  '\u00e9', 'E\u0301', '\u0301', '\u0307', '\u0130', '\u0131', '\u00df', '\u1e9e', '\u03a3', '\u03c2', '\u01c5',
  '\u212a', '\u212b', '\u00c5', '\ufb01', '\uff21', '\uff45', '\uff0e', '\u3002', '\uff61', '\uff20', '\u2160', '\u00bd',
  '\u4f8b', '\u30c6', '\u0443', '\u0423', '\u10a0', '\u13a0', '\uab70', '\u0345', '\u1f88', '\ud55c', '\u1100\u1161',
  'xn--', 'xn--bcher-kva', 'XN--', '--', '\u00a0', '\u200b', '\u{1d400}', '\u{1f4a9}', '\u{1fae8}', '\ufdd0', '\u{10ffff}',
];

/** Printable-ASCII pieces of addresses, upper case, blanks, ACE prefixes and dots included: the inputs of the ASCII fast path. */
const ASCII_PIECES = ['a', 'Z', 'k', '0', '9', '-', '_', '.', '..', '@', '+', '!', '~', '"', '[', '`', ' ', '\t', 'xn--', 'XN--', 'xn--bcher-kva', 'Example', 'com', '.com.'];
const asciiEmailish = fc
  .tuple(fc.array(fc.constantFrom(...ASCII_PIECES), { minLength: 1, maxLength: 8 }), fc.array(fc.constantFrom(...ASCII_PIECES.filter((c) => c !== '@')), { minLength: 1, maxLength: 8 }))
  .map(([l, d]) => `${l.join('')}@${d.join('')}`);
const RUNS_FAST_PATH = 2000;

const trickyString = fc.array(fc.constantFrom(...TRICKY), { maxLength: 24 }).map((parts) => parts.join(''));
const anyString = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.split('\u0000').join(''));
/** The tricky characters that may stand in a valid address. */
const VALID_TRICKY = TRICKY.filter((c) => !/[@ \t\u00a0\u200b\u{1fae8}\ufdd0\u{10ffff}\uff20]/u.test(c));
const validTrickyString = fc.array(fc.constantFrom(...VALID_TRICKY), { minLength: 1, maxLength: 16 }).map((parts) => parts.join(''));
const emailish = fc
  .tuple(validTrickyString, fc.array(validTrickyString, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([localPart, labels, dot]) => `${localPart}@${labels.join('.')}${dot ? '.' : ''}`);

/** Lower-case labels on which UTS #46 and authdb's approximation agree (so Node's ACE can stand in). */
const LABEL_LETTERS = ['a', 'b', 'k', 'z', '0', '\u00fc', '\u00e9', '\u00df', '\u00e5', '\u03b1', '\u03bb', '\u0434', '\u0436', '\u4f8b', '\u30c6', '\ud55c'];
const unicodeLabel = fc.array(fc.constantFrom(...LABEL_LETTERS), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));
const localPart = fc.array(fc.constantFrom('a', 'b', 'i', 'o', 'z', '.', '_', '\u00e9', '\u00f6', '\u00df', '\u0434', '\u4f8b'), { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

/** An address as typed: the parts each respelling may change. */
interface Spelling {
  readonly local: string;
  readonly labels: readonly string[];
  readonly separator: string;
  readonly rootDot: boolean;
  readonly blanks: boolean;
}

const upperAscii = (s: string): string => s.replace(/[a-z]/g, (c) => c.toUpperCase());
const fullwidth = (s: string): string => s.replace(/[a-zA-Z0-9]/g, (c) => String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0));

/** Ways of spelling an address differently without changing the mailbox. */
const RESPELLINGS: Readonly<Record<string, (s: Spelling) => Spelling>> = {
  upperCaseAscii: (s) => ({ ...s, local: upperAscii(s.local), labels: s.labels.map(upperAscii) }),
  nfd: (s) => ({ ...s, local: s.local.normalize('NFD'), labels: s.labels.map((x) => x.normalize('NFD')) }),
  fullwidthDomain: (s) => ({ ...s, labels: s.labels.map(fullwidth) }),
  // Non-ASCII labels only, each converted inside a non-numeric domain: WHATWG's
  // domainToASCII reads a domain of digits ("0", fullwidth "０") as an IPv4 address.
  ace: (s) => ({ ...s, labels: s.labels.map((x) => (/[^ -~]/.test(x) ? aceLabel(x) : x)) }),
  trailingDot: (s) => ({ ...s, rootDot: true }),
  ideographicDots: (s) => ({ ...s, separator: '\u3002' }),
  blanks: (s) => ({ ...s, blanks: true }),
};
const respelling = fc.constantFrom(...Object.keys(RESPELLINGS));

function aceLabel(label: string): string {
  const ascii = domainToASCII(`${label}.example`);
  return ascii.endsWith('.example') ? ascii.slice(0, -'.example'.length) : label;
}

function spell(local: string, labels: readonly string[], ways: readonly string[]): string {
  let s: Spelling = { local, labels, separator: '.', rootDot: false, blanks: false };
  for (const way of ways) {
    const apply = RESPELLINGS[way];
    if (apply === undefined) throw new Error(`unknown respelling ${way}`);
    s = apply(s);
  }
  const address = `${s.local}@${s.labels.join(s.separator)}${s.rootDot ? '.' : ''}`;
  return s.blanks ? ` \t${address} \n` : address;
}

const FLAVOURS = [
  { name: 'default database', create: () => createMigratedDatabase() },
  { name: 'Turkish ICU collation', create: createMigratedTurkishDatabase },
] as const;

// Generous limit: hundreds of generated cases, each a round trip to the server, on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe.each(FLAVOURS)('$name', { timeout: 180_000 }, (flavour) => {
  let db: TestDatabase;
  let client: pg.Client;
  let authDb: AuthDb;

  beforeAll(async () => {
    db = await flavour.create();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // NULL for the documented refusals only; any other error fails the property.
    // 'unstable' marks canonical_email's own idempotence guard firing.
    await client.query(`
      CREATE FUNCTION pg_temp.try_canonical(p text) RETURNS text LANGUAGE plpgsql AS $$
      BEGIN
          RETURN canonical_email(p);
      EXCEPTION WHEN SQLSTATE 'AU005' OR SQLSTATE 'AU009' THEN
          RETURN CASE WHEN SQLERRM LIKE '%no stable canonical form%' THEN 'unstable' END;
      END $$`);
    await createTryFullCanonical(client);
    authDb = createAuthDb({ connection: db.pool });
  });

  afterAll(async () => {
    await authDb.destroy();
    await client.end();
    await db.close();
  });

  async function canonicalTwice(input: string): Promise<{ once: string | null; twice: string | null }> {
    const { rows } = await client.query<{ once: string | null; twice: string | null }>(
      'SELECT c AS once, pg_temp.try_canonical(c) AS twice FROM pg_temp.try_canonical($1) AS c',
      [input],
    );
    return single(rows);
  }

  it('is idempotent for arbitrary strings, and refuses only with AU005/AU009', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: anyString, weight: 1 }, { arbitrary: trickyString, weight: 1 }, { arbitrary: emailish, weight: 4 }), async (input) => {
        const { once, twice } = await canonicalTwice(input);
        expect(once).not.toBe('unstable');
        if (once !== null) {
          accepted++;
          expect(twice).toBe(once);
        }
      }),
      { numRuns: IDEMPOTENCE_RUNS },
    );
    // The property must not hold vacuously.
    expect(accepted).toBeGreaterThan(IDEMPOTENCE_RUNS / 5);
  });

  it('the ASCII fast path gives what the full canonicalisation gives, whenever it decides', async () => {
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: asciiEmailish, weight: 4 }, { arbitrary: trickyString, weight: 1 }, { arbitrary: emailish, weight: 1 }), async (input) => {
        const { rows } = await client.query<{ fast: string | null; is_canonical: boolean | null; full: string | null }>(
          'SELECT authdb_email_ascii_canonical($1) AS fast, authdb_email_is_ascii_canonical($1) AS is_canonical, pg_temp.try_full($1) AS full',
          [input],
        );
        const { fast, is_canonical: isCanonical, full } = single(rows);
        if (fast !== null) {
          decided++;
          expect(fast).toBe(full);
        }
        // "Already canonical" must mean it: the CHECK users_email_canonical lets such rows through unexamined.
        if (isCanonical === true) expect(full).toBe(input);
      }),
      { numRuns: RUNS_FAST_PATH },
    );
    expect(decided).toBeGreaterThan(RUNS_FAST_PATH / 10);
  });

  it('two spellings with the same canonical form reach the same user', async () => {
    await fc.assert(
      fc.asyncProperty(
        localPart,
        fc.array(unicodeLabel, { minLength: 1, maxLength: 3 }),
        fc.array(respelling, { maxLength: 3 }),
        fc.array(respelling, { maxLength: 3 }),
        async (l, labels, waysA, waysB) => {
          const a = spell(l, [...labels, 'example'], waysA);
          const b = spell(l, [...labels, 'example'], waysB);
          const [ca, cb] = [await canonicalTwice(a), await canonicalTwice(b)];
          // Equivalent spellings: one canonical form, or both refused.
          expect(ca.once).toBe(cb.once);
          if (ca.once === null) return;
          const first = await register(db.pool, a, { minResendInterval: '1 microsecond' });
          const second = await register(db.pool, b, { minResendInterval: '1 microsecond' });
          expect(second).toMatchObject({ user_id: first.user_id, outcome: 'reissued' });
          expect((await authDb.findUserByEmail(b))?.id).toBe(first.user_id);
          expect((await authDb.findUserByEmail(a))?.email).toBe(ca.once);
        },
      ),
      { numRuns: SAME_USER_RUNS },
    );
  });
});
