// Property-based tests of the registration API with fast-check, against real
// PostgreSQL:
//   * arbitrary strings (Unicode, combining marks, 10 kB, SQL metacharacters,
//     respellings of registered addresses, real tokens and secrets) for every
//     argument of every API function end in success or a documented AU error,
//     never a raw 22xxx/23xxx/42xxx/XX000;
//   * arbitrary sequences of register / resend / verify (after a preview) /
//     purge / sign-in / a phone confirmation (plain SQL) on a
//     small pool of addresses behave exactly as a small model of the README
//     says (outcome of every call, password hash and phone of every account,
//     state of every token), and leave the tables in a consistent state;
//     huge intervals end in AU009, never 22008;
//   * the same commands run truly concurrently on several sessions end in
//     documented outcomes only, keep the tables consistent, and never give an
//     account a password hash that neither its verifier nor the registration
//     whose secret was presented chose.
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, serverVersion, type TestDatabase } from '../support/database.js';
import { closeAll, connectMany, releaseTogether } from './helpers.js';

// Fewer runs of long command sequences rather than many tiny ones: the whole
// file takes about 10 s on PostgreSQL 17 and 14.

/** Single calls with arbitrary arguments. Default is 2000. */
const ARBITRARY_CALLS = 2000;
/** Sequential runs, each of 60 to SEQUENTIAL_COMMANDS commands. Default is 16 runs of up to 120. */
const SEQUENTIAL_RUNS = 16;
/** A seed whose SEQUENTIAL_RUNS sequences reach every path of the model (checked on PostgreSQL 14 and 17). */
const COVERING_SEED = 1;
const SEQUENTIAL_COMMANDS = 120;
/** Concurrent runs, each of CONCURRENT_ROUNDS / 2 to CONCURRENT_ROUNDS rounds of one command per session. Default is 12 runs of up to 16 rounds on 6 sessions. */
const CONCURRENT_RUNS = 12;
const CONCURRENT_ROUNDS = 16;
const SESSIONS = 6;
/**
 * Shrinking long command sequences replays them against the server: stop
 * after this long (from the start of the property) and report the smallest
 * counterexample found so far.  A run interrupted before any failure (a very
 * slow machine) passes with fewer runs.  Default is 40 s, within vitest's 60 s.
 */
const SHRINK_LIMIT = { interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false } as const;

/** Default is a pool of 4 addresses and 2 phone numbers per command sequence. */
const ADDRESSES_PER_RUN = 4;
const PHONES_PER_RUN = 2;

/** The documented SQLSTATEs of the API (README "Errors"). */
const DOCUMENTED = /^AU0(0[1-9]|1[0-3])$/;

// ---------------------------------------------------------------------------
// Arbitrary strings
// ---------------------------------------------------------------------------

/** Pieces that exercise normalisation, case mapping, IDNA, SQL quoting and whitespace. */
const TRICKY = [
  'a', 'Z', '0', '@', '.', '-', '_', '+', ' ', '\t', '\n', '\r',
  "'", '"', '\\', ';', '--', '/*', '*/', '%', '$$', '$1', '::', '(', ')', "'); DROP TABLE users; --", 'E\'\\x00\'',
  '\u00e9', 'e\u0301', '\u0301', '\u0307', '\u0130', '\u0131', '\u00df', '\u03a3', '\u212a', '\ufb01', '\uff21', '\uff0e',
  '\u3002', '\uff20', '\u00a0', '\u200b', '\u200d', '\u202e', '\ufeff', '\u{1f4a9}', '\u{10ffff}', '\ufffd', '\ud800',
  'xn--', 'xn--bcher-kva', 'example.com', 'user', '+49 (0) 151 234 5678', '+4915123456789', '(0)',
];

/** No NUL: PostgreSQL text cannot hold it, and the driver, not authdb, would refuse it. */
const noNul = (s: string): string => s.split('\u0000').join('');
const anyString = fc.string({ unit: 'binary', maxLength: 80 }).map(noNul);
const trickyString = fc.array(fc.constantFrom(...TRICKY), { maxLength: 20 }).map((parts) => parts.join(''));
const hugeString = fc
  .tuple(fc.constantFrom('a', '\u00e9', 'e\u0301', "'", '\u{1f4a9}', 'x@y.'), fc.integer({ min: 2_000, max: 10_240 }))
  .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)));
const hugeEmail = fc.integer({ min: 9_000, max: 10_240 }).map((n) => `${'a'.repeat(n)}@example.com`);

// ---------------------------------------------------------------------------
// A small pool of addresses and phones, and ways to respell them
// ---------------------------------------------------------------------------

/** Local parts with a precomposed é, so that an NFD respelling differs. */
function poolAddress(run: string, i: number): string {
  return `jos\u00e9.${run}.${i}@example.com`;
}

/** Every pool address of a run. */
function runAddresses(run: string): string[] {
  return Array.from({ length: ADDRESSES_PER_RUN }, (_, i) => poolAddress(run, i));
}

const fullwidth = (s: string): string => s.replace(/[a-z0-9]/g, (c) => String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0));

/** Spellings of one mailbox (all with the same canonical form). */
const RESPELL: readonly ((address: string) => string)[] = [
  (a) => a,
  (a) => a.toUpperCase(),
  (a) => a.normalize('NFD'),
  (a) => ` \t${a}\n `,
  (a) => a.replace(/@(.*)$/, (_, domain: string) => `@${fullwidth(domain)}`),
  (a) => `${a}.`,
  (a) => a.replace(/\./g, (dot, offset: number) => (offset > a.indexOf('@') ? '\u3002' : dot)),
  (a) => ` ${a.normalize('NFD').toUpperCase()}.`,
];

/** Phone `i` of a run, and spellings of it. */
function poolPhone(run: string, i: number): string {
  return `+4915${run.replace(/\D/g, '').padEnd(8, '7').slice(0, 8)}${i}`;
}
const PHONE_SPELLINGS: readonly ((e164: string) => string)[] = [
  (p) => p,
  (p) => `${p.slice(0, 3)} (0) ${p.slice(3, 6)} ${p.slice(6)}`,
  (p) => `${p.slice(0, 3)}-${p.slice(3, 6)}.${p.slice(6)}`,
];

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

// ---------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------

interface SqlFailure {
  readonly code: string;
  readonly message: string;
}
type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SqlFailure };

/** Runs a query; a DatabaseError becomes a failure outcome, anything else propagates. */
async function attempt<T extends pg.QueryResultRow>(db: pg.ClientBase | pg.Pool, sql: string, values: unknown[]): Promise<Outcome<T[]>> {
  try {
    const { rows } = await db.query<T>(sql, values);
    return { ok: true, value: rows };
  } catch (error) {
    if (error instanceof pg.DatabaseError) return { ok: false, error: { code: error.code ?? 'no-code', message: error.message } };
    throw error;
  }
}

function expectDocumented(outcome: Outcome<unknown>, call: string): void {
  if (!outcome.ok && !DOCUMENTED.test(outcome.error.code)) {
    throw new Error(`${call} failed with undocumented SQLSTATE ${outcome.error.code}: ${outcome.error.message}`);
  }
}

interface RegisterRow {
  readonly user_id: string;
  readonly token: string;
  readonly outcome: 'created' | 'reissued';
  readonly registration_secret: string;
}
interface ResendRow {
  readonly user_id: string;
  readonly token: string;
}

const REGISTER_SQL = `SELECT user_id, token, outcome, registration_secret
  FROM register_user_with_token(p_email => $1::text, p_password_hash => $2::text, p_phone => $3::text,
                                p_role => $4::text, p_token_ttl => $5::interval, p_min_resend_interval => $6::interval)`;
const RESEND_SQL = `SELECT user_id, token
  FROM resend_email_verification(p_email => $1::text, p_token_ttl => $2::interval,
                                 p_min_resend_interval => $3::interval, p_registration_secret => $4::text)`;
const VERIFY_SQL = 'SELECT verify_email(p_token => $1::text, p_registration_secret => $2::text, p_password_hash => $3::text) AS user_id';
const PREVIEW_SQL = 'SELECT * FROM preview_email_verification(p_token => $1::text, p_registration_secret => $2::text)';
const SIGN_IN_SQL = 'SELECT user_id, password_hash, role FROM sign_in_credentials(p_email => $1::text)';
const PURGE_SQL = 'SELECT purge_expired_email_verification_tokens(p_older_than => $1::interval) AS n';

// ---------------------------------------------------------------------------
// Invariants over the tables
// ---------------------------------------------------------------------------

/**
 * Each query returns the rows that violate one invariant. USERS stands for
 * the users the check is about: all of them, or one run's (so that a
 * violation found by one run does not make every later run, shrinking
 * included, fail too).
 */
const INVARIANTS: Readonly<Record<string, string>> = {
  'stored e-mail is canonical': 'SELECT id, email FROM USERS WHERE email <> canonical_email(email)',
  'no two users share a canonical e-mail': 'SELECT canonical_email(email) AS e, count(*) FROM USERS GROUP BY 1 HAVING count(*) > 1',
  'no token without its user': `SELECT t.id FROM email_verification_tokens AS t
      WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = t.user_id)`,
  'no confirmed user with an outstanding token': `SELECT t.id FROM email_verification_tokens AS t JOIN USERS AS u ON u.id = t.user_id
      WHERE u.email_confirmed_at IS NOT NULL AND t.consumed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()`,
  'no confirmed phone on two users': `SELECT phone, count(*) FROM USERS WHERE phone_confirmed_at IS NOT NULL
      GROUP BY phone HAVING count(*) > 1`,
  'no unconfirmed user with a password hash or phone': `SELECT id FROM USERS
      WHERE email_confirmed_at IS NULL AND (password_hash IS NOT NULL OR phone IS NOT NULL OR phone_confirmed_at IS NOT NULL)`,
  'at most 5 usable tokens per user': `SELECT t.user_id, count(*) FROM email_verification_tokens AS t JOIN USERS AS u ON u.id = t.user_id
      WHERE t.consumed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now() GROUP BY t.user_id HAVING count(*) > 5`,
  // 5 usable and the 5 most recently ended (migration 4, "Issuing a token").
  'at most 10 stored tokens per user': `SELECT t.user_id, count(*) FROM email_verification_tokens AS t JOIN USERS AS u ON u.id = t.user_id
      GROUP BY t.user_id HAVING count(*) > 10`,
  'a confirmed user has consumed at most one token': `SELECT u.id FROM USERS AS u
      WHERE u.email_confirmed_at IS NOT NULL
        AND (SELECT count(*) FROM email_verification_tokens AS t WHERE t.user_id = u.id AND t.consumed_at IS NOT NULL) > 1`,
  'no token both consumed and revoked': `SELECT t.id FROM email_verification_tokens AS t JOIN USERS AS u ON u.id = t.user_id
      WHERE t.consumed_at IS NOT NULL AND t.revoked_at IS NOT NULL`,
};

/** Checks the invariants for every user, or for the users of the given addresses (any spelling). */
async function expectInvariants(db: pg.ClientBase | pg.Pool, addresses: readonly string[] | null = null): Promise<void> {
  const scope = 'WITH scoped_users AS (SELECT * FROM users WHERE $1::text[] IS NULL OR email = ANY (SELECT canonical_email(a) FROM unnest($1::text[]) AS a)) ';
  for (const [name, sql] of Object.entries(INVARIANTS)) {
    const scoped = sql.includes('USERS');
    const { rows } = scoped ? await db.query(scope + sql.replace(/\bUSERS\b/g, 'scoped_users'), [addresses]) : await db.query(sql);
    expect(rows, name).toEqual([]);
  }
}

// ---------------------------------------------------------------------------

let db: TestDatabase;
let client: pg.Client;
let version: number;

beforeAll(async () => {
  db = await createMigratedDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  version = await serverVersion(db);
});

afterAll(async () => {
  await client.end();
  await db.close();
});

let runCounter = 0;
/** A fresh, short run id (digits only, so it also fits phone numbers). */
function nextRun(): string {
  runCounter += 1;
  return `${String(randomBytes(2).readUInt16BE()).padStart(5, '0')}${String(runCounter).padStart(3, '0')}`;
}

// Generous limit: hundreds of generated calls, each a round trip to the server, on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe('arbitrary arguments', { timeout: 180_000 }, () => {
  it('every call with arbitrary strings ends in success or a documented AU error', async () => {
    const run = nextRun();
    const addresses = Array.from({ length: 40 }, (_, i) => poolAddress(run, i));
    // What earlier calls returned, so that later calls reach past validation.
    const tokens: string[] = [];
    const secrets: string[] = [];

    // Valid interval literals only: the cast is the caller's, the interval's
    // value is authdb's (zero, negative, mixed signs, huge, tiny).
    // Magnitudes stay below ~6000 years, so that now() +/- the interval is a
    // timestamp: larger ones are the separate (failing) property below.
    const UNIT_LIMITS = { microseconds: 2 ** 53, seconds: 2 ** 31 - 1, minutes: 10 ** 9, hours: 16_000_000, days: 700_000, months: 24_000, years: 2000 } as const;
    // Each unit at most once (PostgreSQL refuses "1 day 2 days").
    const composedInterval = fc
      .subarray(Object.keys(UNIT_LIMITS) as (keyof typeof UNIT_LIMITS)[], { minLength: 1, maxLength: 3 })
      .chain((us) => fc.tuple(...us.map((u) => fc.integer({ min: -Math.min(UNIT_LIMITS[u], 2 ** 31 - 1), max: Math.min(UNIT_LIMITS[u], 2 ** 31 - 1) }).map((n) => `${n} ${u}`))))
      .map((parts) => parts.join(' '));
    const edgeIntervals = ['0', '1 microsecond', '-1 microsecond', '1 month -30 days', '1 month -30 days 00:00:01', '-1 month 31 days', '-178000000 years', '-5000 years', '5000 years'];
    if (version >= 170000) edgeIntervals.push('infinity', '-infinity');
    const interval = fc.oneof(
      { arbitrary: fc.constant(null), weight: 1 },
      { arbitrary: fc.constantFrom(...edgeIntervals), weight: 3 },
      { arbitrary: composedInterval, weight: 3 },
      { arbitrary: fc.constantFrom('24 hours', '0 seconds', '1 hour'), weight: 10 },
    );
    const text = fc.oneof(
      { arbitrary: fc.constant(null), weight: 1 },
      { arbitrary: anyString, weight: 3 },
      { arbitrary: trickyString, weight: 3 },
      { arbitrary: hugeString, weight: 1 },
    );
    const email = fc.oneof(
      { arbitrary: text, weight: 3 },
      { arbitrary: hugeEmail, weight: 1 },
      { arbitrary: fc.tuple(fc.constantFrom(...addresses), fc.constantFrom(...RESPELL)).map(([a, respell]) => respell(a)), weight: 8 },
    );
    const known = (list: string[]): fc.Arbitrary<string | null> =>
      fc.nat().map((i) => (list.length === 0 ? null : (list[i % list.length] ?? null)));
    const token = fc.oneof({ arbitrary: text, weight: 1 }, { arbitrary: known(tokens), weight: 2 });
    const secret = fc.oneof({ arbitrary: text, weight: 1 }, { arbitrary: known(secrets), weight: 2 });
    const role = fc.oneof({ arbitrary: text, weight: 1 }, { arbitrary: fc.constantFrom('user', 'admin', 'USER', ' user'), weight: 1 }, { arbitrary: fc.constant('user'), weight: 6 });
    const passwordHash = fc.oneof({ arbitrary: text, weight: 2 }, { arbitrary: fc.constant(null), weight: 1 });
    const phone = fc.oneof(
      { arbitrary: text, weight: 1 },
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(...PHONE_SPELLINGS)).map(([i, spell]) => spell(poolPhone(run, i))), weight: 2 },
    );

    const call = fc.oneof(
      fc.record({ fn: fc.constant('register' as const), args: fc.tuple(email, passwordHash, phone, role, interval, interval) }),
      fc.record({ fn: fc.constant('resend' as const), args: fc.tuple(email, interval, fc.oneof({ arbitrary: interval, weight: 1 }, { arbitrary: fc.constant('0'), weight: 2 }), secret) }),
      fc.record({ fn: fc.constant('verify' as const), args: fc.tuple(token, secret, passwordHash) }),
      fc.record({ fn: fc.constant('preview' as const), args: fc.tuple(token, secret) }),
      fc.record({ fn: fc.constant('signIn' as const), args: fc.tuple(email) }),
      fc.record({ fn: fc.constant('purge' as const), args: fc.tuple(interval) }),
    );

    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(call, async ({ fn, args }) => {
        const sql = { register: REGISTER_SQL, resend: RESEND_SQL, verify: VERIFY_SQL, preview: PREVIEW_SQL, signIn: SIGN_IN_SQL, purge: PURGE_SQL }[fn];
        const outcome = await attempt<Record<string, unknown>>(client, sql, [...args]);
        expectDocumented(outcome, fn);
        const key = outcome.ok ? `${fn} ok` : `${fn} ${outcome.error.code}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (outcome.ok) {
          for (const row of outcome.value) {
            if (typeof row.token === 'string') tokens.push(row.token);
            if (typeof row.registration_secret === 'string') secrets.push(row.registration_secret);
          }
          // Every API function returns at most one row.
          expect(outcome.value.length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: ARBITRARY_CALLS },
    );
    await expectInvariants(client);
    // The calls must reach past validation, not only be refused.
    for (const key of ['register ok', 'resend ok', 'verify ok', 'preview ok', 'purge ok']) {
      expect(seen.get(key) ?? 0, `${key} (outcomes: ${JSON.stringify([...seen])})`).toBeGreaterThan(0);
    }
  });
});

describe('intervals whose end is not a timestamp', () => {
  // BUG (reported, not fixed here): authdb_require_interval computes
  // now() + p_value, the resend throttle now() - p_min_resend_interval and
  // purge now() - p_older_than, none guarding the timestamp range.  So a
  // positive interval larger than about 292,000 years (p_token_ttl,
  // p_min_resend_interval) or, on a reissue / in purge, about 6,700 years
  // (p_min_resend_interval, p_older_than) raises a raw 22008 "timestamp out
  // of range" instead of a documented AU error (AU009) or a success.
  // Remove .fails once fixed.
  it('a huge positive interval ends in success or a documented AU error, never 22008', async () => {
    const run = nextRun();
    const email = poolAddress(run, 0);
    const call = fc.oneof(
      fc.integer({ min: 300_000, max: 178_000_000 }).map((years) => ({ fn: 'register' as const, sql: REGISTER_SQL, args: [email, null, null, 'user', `${years} years`, '0'] })),
      fc.integer({ min: 300_000, max: 178_000_000 }).map((years) => ({ fn: 'register' as const, sql: REGISTER_SQL, args: [email, null, null, 'user', '1 hour', `${years} years`] })),
      fc.integer({ min: 7_000, max: 290_000 }).map((years) => ({ fn: 'register' as const, sql: REGISTER_SQL, args: [email, null, null, 'user', '1 hour', `${years} years`] })),
      fc.integer({ min: 300_000, max: 178_000_000 }).map((years) => ({ fn: 'resend' as const, sql: RESEND_SQL, args: [email, `${years} years`, '0', null] })),
      fc.integer({ min: 7_000, max: 178_000_000 }).map((years) => ({ fn: 'purge' as const, sql: PURGE_SQL, args: [`${years} years`] })),
    );
    await fc.assert(
      fc.asyncProperty(call, async ({ fn, sql, args }) => {
        expectDocumented(await attempt(client, sql, args), fn);
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------
// Command sequences on a small pool of addresses
// ---------------------------------------------------------------------------


/** How a command picks the registration secret it presents. */
type SecretChoice = 'own' | 'none' | 'foreign';

type Command =
  | { readonly k: 'register'; readonly addr: number; readonly spelling: number; readonly password: boolean; readonly phone: number | null; readonly phoneSpelling: number; readonly shortTtl: boolean; readonly throttle: boolean }
  | { readonly k: 'resend'; readonly addr: number; readonly spelling: number; readonly secret: SecretChoice; readonly pick: number; readonly shortTtl: boolean; readonly throttle: boolean }
  | { readonly k: 'verify'; readonly pick: number; readonly secret: SecretChoice; readonly secretPick: number; readonly password: boolean }
  | { readonly k: 'purge'; readonly everything: boolean }
  | { readonly k: 'signIn'; readonly addr: number; readonly spelling: number }
  /** Not an API call: the application's separate phone-confirmation flow, as plain SQL. */
  | { readonly k: 'confirmPhone'; readonly addr: number };

const addr = fc.nat({ max: ADDRESSES_PER_RUN - 1 });
const spelling = fc.nat({ max: RESPELL.length - 1 });
/** True about a fifth of the time. */
const rarely = fc.nat({ max: 9 }).map((n) => n < 2);
const secretChoice = fc.constantFrom<SecretChoice>('own', 'own', 'none', 'foreign');
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('register' as const), addr, spelling, password: fc.boolean(), phone: fc.option(fc.nat({ max: PHONES_PER_RUN - 1 })), phoneSpelling: fc.nat({ max: PHONE_SPELLINGS.length - 1 }), shortTtl: rarely, throttle: rarely }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('resend' as const), addr, spelling, secret: secretChoice, pick: fc.nat(), shortTtl: rarely, throttle: rarely }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('verify' as const), pick: fc.nat(), secret: secretChoice, secretPick: fc.nat(), password: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('purge' as const), everything: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('signIn' as const), addr, spelling }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('confirmPhone' as const), addr }) },
);

/** The model's view of one account. */
interface ModelUser {
  id: string;
  confirmed: boolean;
  password: string | null;
  phone: string | null;
  phoneConfirmed: boolean;
}

/** The model's view of one issued token (in issue order, i.e. id order). */
interface ModelToken {
  readonly token: string;
  readonly addr: number;
  readonly userId: string;
  /** The registration secret whose hash the token carries, or null. */
  readonly secret: string | null;
  readonly password: string | null;
  readonly phone: string | null;
  readonly expired: boolean;
  state: 'outstanding' | 'consumed' | 'revoked';
  deleted: boolean;
}

/** What the README says each call does, replayed on plain data. */
class Model {
  readonly users = new Map<number, ModelUser>();
  readonly tokens: ModelToken[] = [];
  private hashes = 0;

  constructor(readonly run: string) {}

  freshHash(): string {
    this.hashes += 1;
    return `$argon2id$v=19$m=19456,t=2,p=1$${this.run}$${this.hashes}`;
  }

  liveTokens(userId: string): ModelToken[] {
    return this.tokens.filter((t) => t.userId === userId && !t.deleted);
  }

  /** The bound of issuing (migration 4, "Issuing a token"): AU013 while 5 tokens are usable; none is ever revoked for room. */
  boundRefusal(userId: string): string | undefined {
    return this.liveTokens(userId).filter((t) => t.state === 'outstanding' && !t.expired).length >= 5 ? 'AU013' : undefined;
  }

  /** The trim of issuing: ended tokens (expired, consumed, revoked) beyond the 5 newest are deleted. */
  trimEnded(userId: string): void {
    const ended = this.liveTokens(userId).filter((t) => t.expired || t.state !== 'outstanding');
    for (const t of ended.slice(0, Math.max(0, ended.length - 5))) {
      t.deleted = true;
      cover('the trim deleted an ended token');
    }
  }

  /** The code a register/resend of an existing user fails with before issuing, if any. */
  refusal(user: ModelUser | undefined, phone: string | null, throttle: boolean): string | undefined {
    if (user?.confirmed === true) return 'AU001';
    if (phone !== null && [...this.users.values()].some((u) => u !== user && u.phone === phone && u.phoneConfirmed)) return 'AU002';
    if (user === undefined) return undefined;
    if (throttle && this.liveTokens(user.id).length > 0) return 'AU008';
    return undefined;
  }

  /** purge_expired_email_verification_tokens('1 microsecond') (everything) or ('7 days') (nothing of this run). */
  purge(everything: boolean): number {
    if (!everything) return 0;
    let deleted = 0;
    for (const t of this.tokens) {
      if (!t.deleted && (t.expired || t.state !== 'outstanding')) {
        t.deleted = true;
        deleted += 1;
      }
    }
    for (const [a, u] of this.users) {
      if (!u.confirmed && this.liveTokens(u.id).length === 0) {
        this.users.delete(a);
        cover('purge deleted a user');
      }
    }
    return deleted;
  }

  /** The secret a verify or resend presents. */
  presented(choice: SecretChoice, own: string | null, pick: number): string | null {
    if (choice === 'none') return null;
    if (choice === 'own') return own;
    const others = this.tokens.map((t) => t.secret).filter((s): s is string => s !== null && s !== own);
    return others.length === 0 ? `not-a-secret-${pick}` : (others[pick % others.length] ?? null);
  }
}

/** preview_email_verification's view of a token in the model. */
function expectedPreview(t: ModelToken | undefined, secret: string | null): Record<string, unknown> {
  if (t === undefined || t.deleted) {
    return { user_id: null, token_state: 'unknown', token_valid: false, registration_secret_matches: false, sets_password: false, sets_phone: false };
  }
  const state = t.state === 'consumed' ? 'used' : t.state === 'revoked' ? 'revoked' : t.expired ? 'expired' : 'valid';
  const matches = t.secret !== null && t.secret === secret;
  const valid = state === 'valid';
  return {
    user_id: t.userId,
    token_state: state,
    token_valid: valid,
    registration_secret_matches: matches,
    sets_password: valid && matches && t.password !== null,
    sets_phone: valid && matches && t.phone !== null,
  };
}

const CODE_OF_STATE: Readonly<Record<string, string>> = { unknown: 'AU010', used: 'AU012', revoked: 'AU012', expired: 'AU011' };

function codeOf(outcome: Outcome<unknown>): string {
  return outcome.ok ? 'ok' : outcome.error.code;
}

/** Outcomes seen across runs ("verify ok with secret", "resend AU008", "bound revoked a token", …). */
const coverage = new Map<string, number>();
function cover(key: string): void {
  coverage.set(key, (coverage.get(key) ?? 0) + 1);
}

async function step(model: Model, cmd: Command): Promise<void> {
  await stepUncounted(model, cmd);
}

async function stepUncounted(model: Model, cmd: Command): Promise<void> {
  const run = model.run;
  switch (cmd.k) {
    case 'register': {
      const user = model.users.get(cmd.addr);
      const password = cmd.password ? model.freshHash() : null;
      const phone = cmd.phone === null ? null : poolPhone(run, cmd.phone);
      const typedPhone = phone === null ? null : (PHONE_SPELLINGS[cmd.phoneSpelling] ?? String)(phone);
      const email = (RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr));
      const outcome = await attempt<RegisterRow>(client, REGISTER_SQL, [email, password, typedPhone, 'user', cmd.shortTtl ? '1 microsecond' : '24 hours', cmd.throttle ? '1 hour' : '0']);
      const expected = model.refusal(user, phone, cmd.throttle) ?? (user === undefined ? 'created' : (model.boundRefusal(user.id) ?? 'reissued'));
      expect(outcome.ok ? outcome.value[0]?.outcome : outcome.error.code, `register ${email}`).toBe(expected);
      cover(`register ${expected}`);
      if (!outcome.ok) return;
      const row = outcome.value[0];
      if (row === undefined) throw new Error('register returned no row');
      if (user === undefined) {
        model.users.set(cmd.addr, { id: row.user_id, confirmed: false, password: null, phone: null, phoneConfirmed: false });
      } else {
        expect(row.user_id).toBe(user.id);
        model.trimEnded(user.id);
      }
      model.tokens.push({ token: row.token, addr: cmd.addr, userId: row.user_id, secret: row.registration_secret, password, phone, expired: cmd.shortTtl, state: 'outstanding', deleted: false });
      return;
    }
    case 'resend': {
      const user = model.users.get(cmd.addr);
      const mine = model.tokens.filter((t) => t.addr === cmd.addr && t.secret !== null);
      const own = mine.length === 0 ? null : (mine[cmd.pick % mine.length]?.secret ?? null);
      const secret = model.presented(cmd.secret, own, cmd.pick);
      const email = (RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr));
      const outcome = await attempt<ResendRow>(client, RESEND_SQL, [email, cmd.shortTtl ? '1 microsecond' : '24 hours', cmd.throttle ? '1 hour' : '0', secret]);
      const registration = user === undefined ? undefined : model.liveTokens(user.id).filter((t) => secret !== null && t.secret === secret).at(-1);
      // A resend with a registration's secret replaces that registration's tokens (revoked before the bound counts).
      const replaced = registration === undefined || user === undefined ? [] : model.liveTokens(user.id).filter((t) => t.secret === secret && t.state === 'outstanding');
      const usableAfter = user === undefined ? 0 : model.liveTokens(user.id).filter((t) => t.state === 'outstanding' && !t.expired && !replaced.includes(t)).length;
      const expected = user === undefined ? 'AU007' : (model.refusal(user, null, cmd.throttle) ?? (usableAfter >= 5 ? 'AU013' : 'ok'));
      expect(codeOf(outcome), `resend ${email}`).toBe(expected);
      cover(`resend ${expected}`);
      if (!outcome.ok || user === undefined) return;
      const row = outcome.value[0];
      if (row === undefined) throw new Error('resend returned no row');
      expect(row.user_id).toBe(user.id);
      for (const t of replaced) t.state = 'revoked';
      model.trimEnded(user.id);
      model.tokens.push({
        token: row.token, addr: cmd.addr, userId: user.id,
        secret: registration?.secret ?? null, password: registration?.password ?? null, phone: registration?.phone ?? null,
        expired: cmd.shortTtl, state: 'outstanding', deleted: false,
      });
      return;
    }
    case 'verify': {
      const t = model.tokens.length === 0 ? undefined : model.tokens[cmd.pick % model.tokens.length];
      const token = t?.token ?? `no-such-token-${cmd.pick}`;
      const secret = model.presented(cmd.secret, t?.secret ?? null, cmd.secretPick);
      const password = cmd.password ? model.freshHash() : null;
      const expected = expectedPreview(t, secret);
      const previewed = await attempt<Record<string, unknown>>(client, PREVIEW_SQL, [token, secret]);
      if (!previewed.ok) throw new Error(`preview failed: ${previewed.error.code} ${previewed.error.message}`);
      expect(previewed.value[0], 'preview').toMatchObject(expected);
      const outcome = await attempt<{ user_id: string }>(client, VERIFY_SQL, [token, secret, password]);
      expect(codeOf(outcome), 'verify').toBe(CODE_OF_STATE[String(expected.token_state)] ?? 'ok');
      cover(`verify ${String(expected.token_state)}${expected.registration_secret_matches === true ? ' with secret' : ''}`);
      if (!outcome.ok || t === undefined) return;
      expect(outcome.value[0]?.user_id).toBe(t.userId);
      const user = model.users.get(t.addr);
      if (user === undefined) throw new Error('model: token of a deleted user verified');
      const withSecret = expected.registration_secret_matches === true;
      user.confirmed = true;
      user.password = password ?? (withSecret ? t.password : user.password);
      // (An unconfirmed user has no phone, hence no confirmed one: nothing to keep.)
      user.phone = withSecret ? t.phone : user.phone;
      user.phoneConfirmed = false;
      for (const other of model.liveTokens(user.id)) if (other.state === 'outstanding') other.state = 'revoked';
      t.state = 'consumed';
      if (withSecret && password === null && t.password !== null) cover('verify applied a carried password');
      return;
    }
    case 'purge': {
      const outcome = await attempt<{ n: string }>(client, PURGE_SQL, [cmd.everything ? '1 microsecond' : '7 days']);
      if (!outcome.ok) throw new Error(`purge failed: ${outcome.error.code} ${outcome.error.message}`);
      // Other tests' tokens in this database may go too: at least the model's.
      expect(Number(outcome.value[0]?.n)).toBeGreaterThanOrEqual(model.purge(cmd.everything));
      return;
    }
    case 'confirmPhone': {
      const user = model.users.get(cmd.addr);
      const { rowCount } = await client.query(
        `UPDATE users AS u SET phone_confirmed_at = now() WHERE u.email = canonical_email($1::text) AND u.phone IS NOT NULL AND u.phone_confirmed_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM users AS o WHERE o.phone = u.phone AND o.phone_confirmed_at IS NOT NULL)`,
        [poolAddress(run, cmd.addr)],
      );
      const confirms = user !== undefined && user.phone !== null && !user.phoneConfirmed && ![...model.users.values()].some((o) => o.phone === user.phone && o.phoneConfirmed);
      expect(rowCount).toBe(confirms ? 1 : 0);
      if (confirms) {
        user.phoneConfirmed = true;
        cover('a phone was confirmed');
      }
      return;
    }
    case 'signIn': {
      const user = model.users.get(cmd.addr);
      const email = (RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr));
      const outcome = await attempt<Record<string, unknown>>(client, SIGN_IN_SQL, [email]);
      if (!outcome.ok) throw new Error(`sign-in failed: ${outcome.error.code} ${outcome.error.message}`);
      expect(outcome.value, `sign in ${email}`).toEqual(user?.confirmed === true ? [{ user_id: user.id, password_hash: user.password, role: 'user' }] : []);
      return;
    }
  }
}

/** The tables hold exactly what the model says about this run's users and tokens. */
async function expectTablesMatch(model: Model): Promise<void> {
  const emails = runAddresses(model.run);
  const { rows: users } = await client.query<{ addr: string; id: string; confirmed: boolean; password_hash: string | null; phone: string | null; phone_confirmed: boolean }>(
    `SELECT a.i - 1 AS addr, u.id, u.email_confirmed_at IS NOT NULL AS confirmed, u.password_hash, u.phone, u.phone_confirmed_at IS NOT NULL AS phone_confirmed
       FROM unnest($1::text[]) WITH ORDINALITY AS a(e, i) JOIN users AS u ON u.email = canonical_email(a.e) ORDER BY a.i`,
    [emails],
  );
  const expectedUsers = [...model.users.entries()]
    .sort(([a], [b]) => a - b)
    .map(([a, u]) => ({ addr: a, id: u.id, confirmed: u.confirmed, password_hash: u.password, phone: u.phone, phone_confirmed: u.phoneConfirmed }));
  expect(users.map((u) => ({ ...u, addr: Number(u.addr) }))).toEqual(expectedUsers);

  const { rows: tokens } = await client.query<{ h: Buffer; user_id: string; state: string; secret_hash: Buffer | null; password_hash: string | null; phone: string | null }>(
    `SELECT token_hash AS h, user_id, CASE WHEN consumed_at IS NOT NULL THEN 'consumed' WHEN revoked_at IS NOT NULL THEN 'revoked' ELSE 'outstanding' END AS state,
            registration_secret_hash AS secret_hash, password_hash, phone
       FROM email_verification_tokens WHERE token_hash = ANY ($1::bytea[])`,
    [model.tokens.map((t) => sha256(t.token))],
  );
  const byHash = new Map(tokens.map((r) => [r.h.toString('hex'), r]));
  for (const t of model.tokens) {
    const row = byHash.get(sha256(t.token).toString('hex'));
    if (t.deleted) {
      expect(row, 'a purged token is gone').toBeUndefined();
      continue;
    }
    expect(row, 'a token that was not purged is there').toBeDefined();
    expect({ user_id: row?.user_id, state: row?.state, secret_hash: row?.secret_hash?.toString('hex') ?? null, password_hash: row?.password_hash, phone: row?.phone }).toEqual({
      user_id: t.userId, state: t.state, secret_hash: t.secret === null ? null : sha256(t.secret).toString('hex'), password_hash: t.password, phone: t.phone,
    });
  }
}

/**
 * 5 to 7 registrations of one address in a row: reaches the bound of 5
 * outstanding tokens, and (short-lived) users that purge deletes.
 */
const burst: fc.Arbitrary<Command[]> = fc.tuple(addr, fc.integer({ min: 5, max: 7 }), fc.boolean()).map(([a, n, shortTtl]) =>
  Array.from({ length: n }, (_, i): Command => ({ k: 'register', addr: a, spelling: i % RESPELL.length, password: i % 2 === 0, phone: null, phoneSpelling: 0, shortTtl, throttle: false })),
);
const commandSequence = fc
  .array(fc.oneof({ weight: 15, arbitrary: command.map((c) => [c]) }, { weight: 1, arbitrary: burst }), { minLength: SEQUENTIAL_COMMANDS / 2, maxLength: SEQUENTIAL_COMMANDS })
  .map((groups) => groups.flat());

// Generous limit: generated command sequences, each a round trip per command, on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe('sequences of commands', { timeout: 180_000 }, () => {
  it('every call does what the model of the README says, and the tables stay consistent', async () => {
    const property = fc.asyncProperty(commandSequence, async (commands) => {
      const model = new Model(nextRun());
      for (const cmd of commands) await step(model, cmd);
      await expectTablesMatch(model);
      await expectInvariants(client, runAddresses(model.run));
    });
    if (process.env.COVERING_SEED_ONLY === undefined) await fc.assert(property, { numRuns: SEQUENTIAL_RUNS, ...SHRINK_LIMIT });
    // The model must have been exercised on every path, not hold vacuously. A random run can miss a rare
    // path (a purge after a user's every token ended): then the same number of runs from a seed that reaches them all.
    const must = ['register created', 'register reissued', 'register AU001', 'register AU002', 'register AU008', 'a phone was confirmed', 'resend ok', 'resend AU001', 'resend AU007', 'resend AU008',
      'verify valid', 'verify valid with secret', 'verify used', 'verify revoked', 'verify expired', 'verify unknown',
      'verify applied a carried password', 'register AU013', 'the trim deleted an ended token', 'purge deleted a user'];
    if (must.some((key) => (coverage.get(key) ?? 0) === 0)) await fc.assert(property, { numRuns: SEQUENTIAL_RUNS, ...SHRINK_LIMIT, seed: COVERING_SEED });
    for (const key of must) expect(coverage.get(key) ?? 0, `${key} (seen: ${JSON.stringify([...coverage])})`).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------
// The same commands, truly concurrently
// ---------------------------------------------------------------------------

/** What a token row carries, read right after the round that issued it. */
interface Carried {
  readonly secretHash: string | null;
  readonly password: string | null;
  readonly phone: string | null;
}

interface IssuedRecord {
  readonly token: string;
  readonly addr: number;
  /** The registration secret the issuing call returned or presented. */
  readonly secret: string | null;
  /** Undefined until read; null if the token was purged before it could be read. */
  carried?: Carried | null;
}

interface VerifiedRecord {
  readonly userId: string;
  readonly issued: IssuedRecord;
  readonly secret: string | null;
  readonly password: string | null;
}

/** Shared state of one concurrent run: only what the calls returned. */
class Journal {
  readonly registrations = new Map<string, { readonly addr: number; readonly password: string | null; readonly phone: string | null }>();
  readonly issued: IssuedRecord[] = [];
  readonly verified: VerifiedRecord[] = [];
  readonly outcomes = new Map<string, number>();
  private hashes = 0;

  constructor(readonly run: string) {}

  freshHash(): string {
    this.hashes += 1;
    return `$argon2id$v=19$m=19456,t=2,p=1$${this.run}$c${this.hashes}`;
  }

  secretOf(choice: SecretChoice, addr: number | undefined, own: string | null, pick: number): string | null {
    if (choice === 'none') return null;
    const all = [...this.registrations.entries()];
    if (choice === 'own') {
      if (own !== null) return own;
      const mine = all.filter(([, r]) => r.addr === addr);
      return mine.length === 0 ? null : (mine[pick % mine.length]?.[0] ?? null);
    }
    const others = all.filter(([s, r]) => s !== own && r.addr !== addr);
    return others.length === 0 ? `not-a-secret-${pick}` : (others[pick % others.length]?.[0] ?? null);
  }

  count(key: string): void {
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }
}

/** Runs one command on `session`; records what it returned; fails on an undocumented error. */
async function runConcurrently(session: pg.ClientBase, journal: Journal, cmd: Command, verifiable: readonly IssuedRecord[]): Promise<void> {
  const run = journal.run;
  switch (cmd.k) {
    case 'register': {
      const password = cmd.password ? journal.freshHash() : null;
      const phone = cmd.phone === null ? null : poolPhone(run, cmd.phone);
      const typedPhone = phone === null ? null : (PHONE_SPELLINGS[cmd.phoneSpelling] ?? String)(phone);
      const email = (RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr));
      const outcome = await attempt<RegisterRow>(session, REGISTER_SQL, [email, password, typedPhone, 'user', cmd.shortTtl ? '1 microsecond' : '24 hours', cmd.throttle ? '1 hour' : '0']);
      expectDocumented(outcome, 'register');
      journal.count(`register ${outcome.ok ? String(outcome.value[0]?.outcome) : outcome.error.code}`);
      const row = outcome.ok ? outcome.value[0] : undefined;
      if (row === undefined) return;
      journal.registrations.set(row.registration_secret, { addr: cmd.addr, password, phone });
      journal.issued.push({ token: row.token, addr: cmd.addr, secret: row.registration_secret });
      return;
    }
    case 'resend': {
      const secret = journal.secretOf(cmd.secret, cmd.addr, null, cmd.pick);
      const email = (RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr));
      const outcome = await attempt<ResendRow>(session, RESEND_SQL, [email, cmd.shortTtl ? '1 microsecond' : '24 hours', cmd.throttle ? '1 hour' : '0', secret]);
      expectDocumented(outcome, 'resend');
      journal.count(`resend ${codeOf(outcome)}`);
      const row = outcome.ok ? outcome.value[0] : undefined;
      if (row === undefined) return;
      journal.issued.push({ token: row.token, addr: cmd.addr, secret });
      return;
    }
    case 'verify': {
      const issued = verifiable.length === 0 ? undefined : verifiable[cmd.pick % verifiable.length];
      const token = issued?.token ?? `no-such-token-${cmd.pick}`;
      const secret = journal.secretOf(cmd.secret, issued?.addr, issued?.secret ?? null, cmd.secretPick);
      const password = cmd.password ? journal.freshHash() : null;
      const outcome = await attempt<{ user_id: string }>(session, VERIFY_SQL, [token, secret, password]);
      expectDocumented(outcome, 'verify');
      journal.count(`verify ${codeOf(outcome)}`);
      const row = outcome.ok ? outcome.value[0] : undefined;
      if (row === undefined || issued === undefined) return;
      journal.verified.push({ userId: row.user_id, issued, secret, password });
      return;
    }
    case 'purge': {
      const outcome = await attempt(session, PURGE_SQL, [cmd.everything ? '1 microsecond' : '7 days']);
      expectDocumented(outcome, 'purge');
      journal.count(`purge ${codeOf(outcome)}`);
      return;
    }
    case 'confirmPhone': {
      // Plain SQL of the application's own phone flow: two sessions
      // confirming one number at once may collide on the unique index.
      const outcome = await attempt(
        session,
        `UPDATE users AS u SET phone_confirmed_at = now() WHERE u.email = canonical_email($1::text) AND u.phone IS NOT NULL AND u.phone_confirmed_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM users AS o WHERE o.phone = u.phone AND o.phone_confirmed_at IS NOT NULL)`,
        [poolAddress(run, cmd.addr)],
      );
      if (!outcome.ok && outcome.error.code !== '23505') throw new Error(`confirming a phone failed: ${outcome.error.code} ${outcome.error.message}`);
      return;
    }
    case 'signIn': {
      const outcome = await attempt(session, SIGN_IN_SQL, [(RESPELL[cmd.spelling] ?? String)(poolAddress(run, cmd.addr))]);
      expectDocumented(outcome, 'signIn');
      return;
    }
  }
}

/** Reads what the tokens issued in the last round carry (before any later round can purge them). */
async function readCarried(journal: Journal): Promise<void> {
  const fresh = journal.issued.filter((i) => i.carried === undefined);
  const { rows } = await client.query<{ h: Buffer; secret_hash: Buffer | null; password_hash: string | null; phone: string | null }>(
    'SELECT token_hash AS h, registration_secret_hash AS secret_hash, password_hash, phone FROM email_verification_tokens WHERE token_hash = ANY ($1::bytea[])',
    [fresh.map((i) => sha256(i.token))],
  );
  const byHash = new Map(rows.map((r) => [r.h.toString('hex'), r]));
  for (const i of fresh) {
    const row = byHash.get(sha256(i.token).toString('hex'));
    i.carried = row === undefined ? null : { secretHash: row.secret_hash?.toString('hex') ?? null, password: row.password_hash, phone: row.phone };
  }
}

/** Every confirmed account of the run holds exactly what its one successful verification chose. */
async function expectAttributedCredentials(journal: Journal): Promise<void> {
  // A token carries the details of the registration whose secret it carries, never another's.
  for (const i of journal.issued) {
    if (i.carried == null || i.carried.secretHash === null) continue;
    const registration = [...journal.registrations.entries()].find(([s]) => sha256(s).toString('hex') === i.carried?.secretHash)?.[1];
    expect(registration, 'a token carries the secret hash of a registration of this run').toBeDefined();
    expect({ addr: i.addr, password: i.carried.password, phone: i.carried.phone }).toEqual({ addr: registration?.addr, password: registration?.password, phone: registration?.phone });
  }
  const byUser = new Map<string, VerifiedRecord[]>();
  for (const v of journal.verified) byUser.set(v.userId, [...(byUser.get(v.userId) ?? []), v]);
  const emails = runAddresses(journal.run);
  const { rows: confirmed } = await client.query<{ id: string; password_hash: string | null; phone: string | null }>(
    `SELECT u.id, u.password_hash, u.phone FROM users AS u
      WHERE u.email = ANY (SELECT canonical_email(e) FROM unnest($1::text[]) AS e) AND u.email_confirmed_at IS NOT NULL`,
    [emails],
  );
  // Confirmation happens only through verify_email, once per account.
  for (const [userId, verifications] of byUser) {
    expect(verifications, `successful verifications of user ${userId}`).toHaveLength(1);
    expect(confirmed.map((u) => u.id)).toContain(userId);
  }
  for (const user of confirmed) {
    const v = byUser.get(user.id)?.[0];
    if (v === undefined) throw new Error(`user ${user.id} is confirmed without a successful verify_email`);
    const carried = v.issued.carried;
    if (carried == null) throw new Error('a token verified successfully was never seen in the table');
    const withSecret = v.secret !== null && carried.secretHash === sha256(v.secret).toString('hex');
    expect({ password_hash: user.password_hash, phone: user.phone }, 'credentials of a confirmed account').toEqual({
      password_hash: v.password ?? (withSecret ? carried.password : null),
      phone: withSecret ? carried.phone : null,
    });
  }
}

// Generous limit: generated concurrent command sets on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe('concurrent commands', { timeout: 180_000 }, () => {
  let sessions: pg.Client[];
  let gate: pg.Client;

  beforeAll(async () => {
    sessions = await connectMany(db.url, SESSIONS);
    gate = new pg.Client({ connectionString: db.url });
    await gate.connect();
  });

  afterAll(async () => {
    await closeAll([...sessions, gate]);
  });

  it('end in documented outcomes only, keep the tables consistent and give every account the credentials its verifier chose', async () => {
    const totals = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(command, { minLength: SESSIONS, maxLength: SESSIONS }), { minLength: CONCURRENT_ROUNDS / 2, maxLength: CONCURRENT_ROUNDS }), async (rounds) => {
        const journal = new Journal(nextRun());
        for (const round of rounds) {
          // Verifications use tokens of earlier rounds, read back already.
          const verifiable = journal.issued.filter((i) => i.carried != null);
          const settled = await releaseTogether(gate, sessions, (session, index) => {
            const cmd = round[index];
            return cmd === undefined ? Promise.resolve() : runConcurrently(session, journal, cmd, verifiable);
          });
          for (const result of settled) if (result.status === 'rejected') throw result.reason;
          await readCarried(journal);
        }
        await expectInvariants(client, runAddresses(journal.run));
        await expectAttributedCredentials(journal);
        for (const [k, n] of journal.outcomes) totals.set(k, (totals.get(k) ?? 0) + n);
      }),
      { numRuns: CONCURRENT_RUNS, ...SHRINK_LIMIT },
    );
    // Concurrency must have produced successes and conflicts, not only refusals.
    for (const key of ['register created', 'register reissued', 'resend ok', 'verify ok', 'verify AU012']) {
      expect(totals.get(key) ?? 0, `${key} (seen: ${JSON.stringify([...totals])})`).toBeGreaterThan(0);
    }
  });
});
