// The canonical form of e-mail addresses and phone numbers (issue 8), on the
// default database and on a database with a Turkish ICU collation: every
// spelling of one mailbox reaches one user, or is refused (AU005/AU006).
import { domainToASCII } from 'node:url';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, type AuthDb } from '../../src/index.js';
import { createEmptyDatabase, createMigratedDatabase, createMigratedTurkishDatabase, migrateDatabase, serverVersion, type TestDatabase } from '../support/database.js';
import { expectSqlState, register, resend, single, userById, verify, verifyAsRegistrant } from './helpers.js';

/** Registration options that let a second registration follow at once (no AU008). */
const NO_THROTTLE = { minResendInterval: '1 microsecond' } as const;

interface Flavour {
  readonly name: string;
  readonly turkish: boolean;
  /** Creates and migrates the database; says how the Turkish collation was applied. */
  create(): Promise<TestDatabase>;
}

const FLAVOURS: readonly Flavour[] = [
  { name: 'default database', turkish: false, create: () => createMigratedDatabase() },
  { name: 'Turkish ICU collation', turkish: true, create: createMigratedTurkishDatabase },
];

/** A fresh local part, so that tests never meet each other's users. */
function local(label: string): string {
  return `${label}.${randomBytes(4).toString('hex')}`;
}

describe.each(FLAVOURS)('$name', (flavour) => {
  let db: TestDatabase;
  let authDb: AuthDb;

  beforeAll(async () => {
    db = await flavour.create();
    authDb = createAuthDb({ connection: db.pool });
  });

  afterAll(async () => {
    await authDb.destroy();
    await db.close();
  });

  async function canonical(email: string): Promise<string> {
    const { rows } = await db.pool.query<{ c: string }>('SELECT canonical_email($1) AS c', [email]);
    return single(rows).c;
  }

  it.runIf(flavour.turkish)('the Turkish flavour really folds the Turkish way (lower() gives dotless ı)', async () => {
    if ((await serverVersion(db)) >= 150000) {
      const { rows } = await db.pool.query<{ folded: string; provider: string }>(
        "SELECT lower('I') AS folded, (SELECT datlocprovider::text FROM pg_database WHERE datname = current_database()) AS provider",
      );
      expect(single(rows)).toEqual({ folded: '\u0131', provider: 'i' });
    }
    const { rows } = await db.pool.query<{ folded: string }>(
      "SELECT lower(email) AS folded FROM (SELECT 'I'::text COLLATE \"tr-TR-x-icu\" AS email) AS x",
    );
    expect(single(rows).folded).toBe('\u0131');
  });

  // Each pair: two spellings of one mailbox, and the canonical form stored.
  const pairs: readonly (readonly [label: string, first: (l: string) => string, second: (l: string) => string, stored: (l: string) => string])[] = [
    ['NFC and NFD', (l) => `jos\u00e9.${l}@example.com`, (l) => `jose\u0301.${l}@example.com`, (l) => `jos\u00e9.${l}@example.com`],
    ['Unicode and ACE domain', (l) => `ada.${l}@b\u00fccher.example`, (l) => `ada.${l}@xn--bcher-kva.example`, (l) => `ada.${l}@b\u00fccher.example`],
    ['ACE in capitals', (l) => `ada.${l}@XN--BCHER-KVA.EXAMPLE`, (l) => `ada.${l}@B\u00dcCHER.example`, (l) => `ada.${l}@b\u00fccher.example`],
    ['fullwidth domain', (l) => `ada.${l}@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com`, (l) => `ada.${l}@example.com`, (l) => `ada.${l}@example.com`],
    ['fullwidth dot and ideographic full stop', (l) => `ada.${l}@example\uff0ecom`, (l) => `ada.${l}@example\u3002com`, (l) => `ada.${l}@example.com`],
    ['trailing root dot', (l) => `grace.${l}@example.com.`, (l) => `grace.${l}@example.com`, (l) => `grace.${l}@example.com`],
    ['capital I (Turkish collation)', (l) => `Ian.Smith.${l}@Example.com`, (l) => `ian.smith.${l}@example.com`, (l) => `ian.smith.${l}@example.com`],
  ];

  describe.each(pairs)('%s', (_label, first, second, stored) => {
    it('registration, resend, findUserByEmail and the unique constraint reach one user', async () => {
      const l = local('p');
      const created = await register(db.pool, first(l), NO_THROTTLE);
      expect(created.outcome).toBe('created');
      expect((await userById(db.pool, created.user_id)).email).toBe(stored(l));
      expect(await canonical(first(l))).toBe(stored(l));
      expect(await canonical(second(l))).toBe(stored(l));

      const again = await register(db.pool, second(l), NO_THROTTLE);
      expect({ outcome: again.outcome, user: again.user_id }).toEqual({ outcome: 'reissued', user: created.user_id });
      const resent = await resend(db.pool, second(l), NO_THROTTLE);
      expect(resent.user_id).toBe(created.user_id);
      expect((await authDb.findUserByEmail(first(l)))?.id).toBe(created.user_id);
      expect((await authDb.findUserByEmail(second(l)))?.id).toBe(created.user_id);

      // Written by another path: the CHECK refuses the other spelling unless
      // it is canonical, and the canonical one collides.
      if (second(l) !== stored(l)) {
        const error = await expectSqlState(db.pool.query("INSERT INTO users (email, role) VALUES ($1, 'user')", [second(l)]), 'AU005');
        expect(error.message).toContain('is not in canonical form');
      }
      await expectSqlState(db.pool.query("INSERT INTO users (email, role) VALUES ($1, 'user')", [stored(l)]), '23505');

      // Once confirmed, the other spelling is AU001.
      await verify(db.pool, resent.token);
      await expectSqlState(register(db.pool, second(l)), 'AU001');
      await expectSqlState(register(db.pool, first(l)), 'AU001');
    });
  });

  it('Ian.Smith@Example.com is stored with an ASCII i on every database', async () => {
    const l = local('Ian');
    const { user_id } = await register(db.pool, `${l}@Example.com`);
    const { email } = await userById(db.pool, user_id);
    expect(email).toBe(`${l.toLowerCase()}@example.com`);
    expect(email).not.toContain('\u0131');
    expect(email).toMatch(/^[\x20-\x7e]+$/);
  });

  it.each([
    ['empty label', 'a@example..com', 'empty label'],
    ['leading dot', 'a@.example.com', 'empty label'],
    ['two trailing dots', 'a@example.com..', 'empty label'],
    ['only a dot', 'a@.', 'must not be empty'],
    ['invalid punycode', 'a@xn--zz.example', 'not valid punycode'],
    ['punycode of plain ASCII', 'a@xn--abc-.example', 'decodes to the ASCII label'],
    ['punycode beyond U+10FFFF', 'a@xn--99999999999a.example', 'not valid punycode'],
    ['fullwidth @ in the domain', 'a@ex\uff20ample.com', 'contains "@"'],
    ['a code point unassigned in Unicode 13.0', 'a@\u{1fae8}.example', 'not a character assigned in Unicode 13.0'],
    ['a noncharacter', 'a\ufdd0@example.com', 'not a character assigned in Unicode 13.0'],
  ])('refuses %s with AU005 saying why', async (_label, email, reason) => {
    const error = await expectSqlState(register(db.pool, email), 'AU005');
    expect(`${error.message}\n${error.detail ?? ''}`).toContain(reason);
    expect(await authDb.findUserByEmail(email)).toBeUndefined();
  });

  it('"+49 (0) 209 22334455" and "+4920922334455" are one number; the (0) is never stored', async () => {
    const owner = await register(db.pool, `${local('owner')}@example.com`, { phone: '+49 (0) 209 22334455' });
    const pending = await db.pool.query<{ phone: string }>('SELECT phone FROM email_verification_tokens WHERE user_id = $1', [owner.user_id]);
    expect(pending.rows.map((r) => r.phone)).toEqual(['+4920922334455']);
    await verifyAsRegistrant(db.pool, owner);
    expect((await userById(db.pool, owner.user_id)).phone).toBe('+4920922334455');
    await db.pool.query('UPDATE users SET phone_confirmed_at = now() WHERE id = $1', [owner.user_id]);
    for (const spelling of ['+4920922334455', '+49 (0) 209 22334455', '+49(0)20922334455', '+49 ( 0 ) 209-22334455', '+49-(0)-209-22334455']) {
      await expectSqlState(register(db.pool, `${local('other')}@example.com`, { phone: spelling }), 'AU002');
    }
    await db.pool.query('UPDATE users SET phone_confirmed_at = NULL, phone = NULL WHERE id = $1', [owner.user_id]);
  });

  it.each([
    '+49-(0)-209-22334455',
    '+49.(0).209.22334455',
    '+49 -(0)- 209 22334455',
    '+49-( 0 )-209-22334455',
    '+49 . - (0) . 209-22334455',
    ' + 49-(0)20922334455',
  ])('removes the (0) trunk prefix with spaces, dashes and dots around it: %j', async (phone) => {
    const reg = await register(db.pool, `${local('dash')}@example.com`, { phone });
    const { rows } = await db.pool.query<{ phone: string }>('SELECT phone FROM email_verification_tokens WHERE user_id = $1', [reg.user_id]);
    expect(rows.map((r) => r.phone)).toEqual(['+4920922334455']);
  });

  describe('phone normalisation, property-based', () => {
    /** Any mix of spaces, dashes and dots, possibly none. */
    const separators = fc.array(fc.constantFrom(' ', '-', '.'), { maxLength: 3 }).map((cs) => cs.join(''));
    const someSeparators = fc.array(fc.constantFrom(' ', '-', '.'), { minLength: 1, maxLength: 3 }).map((cs) => cs.join(''));
    const countryCode = fc.integer({ min: 1, max: 999 }).map(String);
    /** A country code and national digits, 8 to 15 digits in all; the national number does not start with 0 (its trunk prefix). */
    const number = countryCode.chain((cc) =>
      fc.tuple(fc.constant(cc), fc.stringMatching(new RegExp(`^[1-9][0-9]{${7 - cc.length},${14 - cc.length}}$`))),
    );
    /** The national digits cut in two, with separators between. */
    const spellNational = (national: string, cut: number, sep: string): string => `${national.slice(0, cut % (national.length + 1))}${sep}${national.slice(cut % (national.length + 1))}`;

    async function normalize(phone: string): Promise<string> {
      const { rows } = await db.pool.query<{ phone: string }>('SELECT authdb_normalize_phone($1) AS phone', [phone]);
      return single(rows).phone;
    }

    it('a (0) right after the country code, separators of any mix around and inside it, is removed', async () => {
      await fc.assert(
        fc.asyncProperty(number, fc.array(separators, { minLength: 7, maxLength: 7 }), fc.nat(), async ([cc, national], seps, cut) => {
          const [s0, s1, s2, s3, s4, s5, s6] = seps as [string, string, string, string, string, string, string];
          const typed = `${s0}+${s1}${cc}${s2}(${s3}0${s4})${s5}${spellNational(national, cut, s6)}`;
          expect(await normalize(typed)).toBe(`+${cc}${national}`);
          // The same number without the (0): one number. (A separator after the country code, as the
          // (0) stood there: "+1" then "2 0…" typed as "+12 0…" would read as a trunk 0 after +12.)
          expect(await normalize(`+${cc} ${s5}${spellNational(national, cut, s6)}`)).toBe(`+${cc}${national}`);
        }),
        { numRuns: 300 },
      );
    });

    it('a (0) anywhere else is refused with AU006', async () => {
      await fc.assert(
        fc.asyncProperty(number, someSeparators, separators, separators, fc.integer({ min: 1, max: 20 }), async ([cc, national], s1, s2, s3, cut) => {
          // At least one national digit, after a separator, stands between the country code and the (0).
          const at = Math.min(cut, national.length);
          const typed = `+${cc}${s1}${national.slice(0, at)}${s2}(0)${s3}${national.slice(at)}`;
          const error = await expectSqlState(normalize(typed), 'AU006');
          expect(error.detail).toContain('right after the country code');
        }),
        { numRuns: 300 },
      );
    });
  });

  // A trunk 0 inside the area code, as people copy national numbers: stored as
  // typed it would be another number, which the AU002 check would not match.
  it.each([
    ['+49 (0209) 22334455', '+49'],
    ['+49 0209 22334455', '+49'],
    ['+49-0209-22334455', '+49'],
    ['+44 (020) 7946 0958', '+44'],
    ['+1 (0) 0212 555 0100', '+1'],
  ])('refuses %j: the digits after the country code start with a trunk 0 (AU006)', async (phone, country) => {
    const error = await expectSqlState(register(db.pool, `${local('trunk')}@example.com`, { phone }), 'AU006');
    expect(error.detail).toContain(`after the country code ${country} start with 0`);
  });

  it('a confirmed "+49 (0) 209 22334455" leaves no spelling with the trunk 0 that escapes AU002', async () => {
    const owner = await register(db.pool, `${local('owner0')}@example.com`, { phone: '+49 (0) 209 22334455' });
    await verifyAsRegistrant(db.pool, owner);
    await db.pool.query('UPDATE users SET phone_confirmed_at = now() WHERE id = $1', [owner.user_id]);
    for (const spelling of ['+49 (0209) 22334455', '+49 0209 22334455']) {
      await expectSqlState(register(db.pool, `${local('other0')}@example.com`, { phone: spelling }), 'AU006');
    }
    await expectSqlState(register(db.pool, `${local('other0')}@example.com`, { phone: '+49 209 22334455' }), 'AU002');
    await db.pool.query('UPDATE users SET phone_confirmed_at = NULL, phone = NULL WHERE id = $1', [owner.user_id]);
  });

  it.each(['+39 06 6988 3145', '+39 (06) 6988 3145', '+378 0549 882 000', '+225 07 12 34 56 78'])(
    'keeps the leading 0 where the national number has one: %j',
    async (phone) => {
      const { rows } = await db.pool.query<{ phone: string }>('SELECT authdb_normalize_phone($1) AS phone', [phone]);
      expect(single(rows).phone).toBe(`+${phone.replace(/[^0-9]/g, '')}`);
    },
  );

  it.each([
    ['+0123456789', 'country codes never start with 0'],
    ['+49 209 (0) 22334455', 'right after the country code'],
    ['+49-209-(0)-22334455', 'right after the country code'],
    ['+49 (0) (0) 209 22334455', 'right after the country code'],
    ['+(0)4920922334455', 'E.164'],
  ])('refuses the phone %j with AU006', async (phone, reason) => {
    const error = await expectSqlState(register(db.pool, `${local('ph')}@example.com`, { phone }), 'AU006');
    expect(`${error.message}\n${error.detail ?? ''}`).toContain(reason);
  });

  it('the CHECK refuses "+0…" phones written by another path', async () => {
    await expectSqlState(db.pool.query("INSERT INTO users (email, role, phone) VALUES ($1, 'user', '+0123456789')", [`${local('x')}@example.com`]), '23514');
  });

  it('authdb_check_email_import lists every invalid or colliding address, and nothing for a clean list', async () => {
    const l = local('imp');
    await register(db.pool, `${l}.taken@example.com`);
    const emails = [`${l}@Example.com`, `${l}@example.com.`, 'not-an-address', `${l}.TAKEN@example.com`, `${l}.ok@example.com`, `jose\u0301.${l}@x.org`, `jos\u00e9.${l}@x.org`];
    const error = await expectSqlState(db.pool.query('SELECT authdb_check_email_import($1::text[])', [emails]), 'AU005');
    expect(error.message).toBe('p_emails: 4 of 7 addresses cannot be imported as they are');
    expect(error.detail?.split('\n')).toEqual([
      '#3 "not-an-address" is invalid: p_email: "not-an-address" is not a valid email address An email address must contain exactly one "@".',
      `#1 "${l}@Example.com" and #2 "${l}@example.com." have one canonical form, "${l}@example.com"`,
      `#6 "jose\u0301.${l}@x.org" and #7 "jos\u00e9.${l}@x.org" have one canonical form, "jos\u00e9.${l}@x.org"`,
      `#4 "${l}.TAKEN@example.com" is "${l}.taken@example.com", already a registered user`,
    ]);
    await db.pool.query('SELECT authdb_check_email_import($1::text[])', [[`${l}.a@example.com`, `${l}.b@example.com`]]);
    const strict = await expectSqlState(db.pool.query('SELECT authdb_check_email_import($1::text[], false)', [[`${l}.C@example.com`]]), 'AU005');
    expect(strict.detail).toBe(`#1 "${l}.C@example.com" is not in canonical form ("${l}.c@example.com")`);
  });
});

describe('adopting authdb on a database with existing users', () => {
  it('INSERT … SELECT of non-canonical rows fails with the reason; the import check lists them all first', async () => {
    const db = await createMigratedDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('CREATE TABLE legacy_users (id int PRIMARY KEY, email text NOT NULL)');
      await client.query("INSERT INTO legacy_users VALUES (1, 'Ada@Example.com'), (2, 'ada@example.com.'), (3, 'grace@example.com')");
      const insert = "INSERT INTO users (email, role) SELECT email, 'user' FROM legacy_users ORDER BY id";
      const raw = await expectSqlState(client.query(insert), 'AU005');
      expect(raw.message).toBe('users.email: "Ada@Example.com" is not in canonical form; its canonical form is "ada@example.com"');
      expect(raw.hint).toContain('authdb_check_email_import');
      const canonicalised = "INSERT INTO users (email, role) SELECT canonical_email(email), 'user' FROM legacy_users ORDER BY id";
      await expectSqlState(client.query(canonicalised), '23505');
      const listed = await expectSqlState(client.query('SELECT authdb_check_email_import(ARRAY(SELECT email FROM legacy_users ORDER BY id))'), 'AU005');
      expect(listed.detail).toBe('#1 "Ada@Example.com" and #2 "ada@example.com." have one canonical form, "ada@example.com"');
      expect(Number(single((await client.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows).n)).toBe(0);
      // After a deliberate merge the import goes through.
      await client.query('DELETE FROM legacy_users WHERE id = 2');
      await client.query('SELECT authdb_check_email_import(ARRAY(SELECT email FROM legacy_users ORDER BY id))');
      await client.query(canonicalised);
      expect((await client.query<{ email: string }>('SELECT email FROM users ORDER BY email')).rows.map((r) => r.email)).toEqual(['ada@example.com', 'grace@example.com']);
    } finally {
      await client.end();
      await db.close();
    }
  });

  it('migrating a database that is not UTF8 stops before creating any authdb table, saying why', async () => {
    const db = await createEmptyDatabase("ENCODING 'SQL_ASCII' LOCALE 'C'");
    try {
      const error = await migrateDatabase(db.url).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/needs a UTF8 database/);
      const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_class WHERE relname IN ('roles', 'users')");
      expect(single(rows).n).toBe('0');
    } finally {
      await db.close();
    }
  });
});

// Node's own UTS #46 ToASCII gives the ACE spellings; the database decodes
// them to the Unicode form it stores.
describe('ACE spellings produced by a UTS #46 implementation', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it.each(['bücher.example', 'münchen.de', '例え.テスト', 'παράδειγμα.δοκιμή', 'пример.испытание', 'xn--nxasmq6b.com'])(
    'domainToASCII(%j) canonicalises to the same Unicode domain',
    async (domain) => {
      const ace = domainToASCII(domain);
      const { rows } = await db.pool.query<{ unicode: string; ace: string }>(
        'SELECT canonical_email($1) AS unicode, canonical_email($2) AS ace',
        [`a@${domain}`, `a@${ace}`],
      );
      expect(single(rows).ace).toBe(single(rows).unicode);
    },
  );
});
