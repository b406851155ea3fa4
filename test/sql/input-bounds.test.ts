// Issue 14 §1: every text argument of every SQL API function is refused over
// its documented bound before any other work. Early is proven by the error,
// not by timing: each 1 MB value would also break a later rule (a second
// "@", a "(0)" in the wrong place, an unknown token), and the error must be
// the bound's, naming the argument and the limit. statement_timeout is only
// a safety net (before the bounds, a 16,000-character ACE label took seconds).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyApplicationRole } from '../../src/contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../../src/contract/check.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { TestRoles, type TestRole } from '../support/roles.js';
import { createTryFullCanonical, errorText, expectSqlState, single, sqlError, uniqueEmail } from './helpers.js';

const MB = 1024 * 1024;
const roles = new TestRoles();
let db: TestDatabase;
let appRole: TestRole;
let app: pg.Client;

beforeAll(async () => {
  db = await createMigratedDatabase();
  appRole = await roles.create('authdb_bounds_app');
  const owner = await db.pool.connect();
  try {
    await applyApplicationRole({ client: owner, schema: 'public', role: appRole.name, contract: await readContractFile(DEFAULT_CONTRACT_FILE) });
  } finally {
    owner.release();
  }
  app = new pg.Client({ connectionString: appRole.urlFor(db.url) });
  await app.connect();
  await app.query("SET statement_timeout = '20s'");
});

afterAll(async () => {
  await app.end();
  await db.close();
  await roles.dropAll([]);
});

/** One 1 MB value per parameter, each of which also breaks a rule checked later. */
const HUGE: Readonly<Record<string, string>> = {
  p_email: `a@@${'x'.repeat(MB)}`, // two "@" and a 1 MB label
  p_password_hash: `$argon2id$${'h'.repeat(MB)}`,
  p_phone: `+49 209 (0) ${'1'.repeat(MB)}`, // a misplaced (0)
  p_role: 'R'.repeat(MB), // not a role name
  p_token: 'T'.repeat(MB), // an unknown token
  p_registration_secret: 'S'.repeat(MB),
};

interface Bound {
  readonly parameter: string;
  readonly max: number;
  readonly code: string;
}

const BOUNDS: Readonly<Record<string, Bound>> = {
  p_email: { parameter: 'p_email', max: 1024, code: 'AU005' },
  p_password_hash: { parameter: 'p_password_hash', max: 1024, code: 'AU009' },
  p_phone: { parameter: 'p_phone', max: 64, code: 'AU006' },
  p_role: { parameter: 'p_role', max: 63, code: 'AU003' },
  p_token: { parameter: 'p_token', max: 64, code: 'AU009' },
  p_registration_secret: { parameter: 'p_registration_secret', max: 64, code: 'AU009' },
};

/** A valid value for every text parameter, so that only the one under test is out of bounds. */
const VALID: Readonly<Record<string, string>> = {
  p_email: 'bounds@example.com',
  p_password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  p_phone: '+4930123456789',
  p_role: 'user',
  p_token: 'x'.repeat(43),
  p_registration_secret: 'y'.repeat(43),
};

/** The SQL API functions the application role may call, each with its text parameters, from the catalog. */
async function apiTextParameters(): Promise<{ name: string; parameters: string[] }[]> {
  const { rows } = await app.query<{ name: string; parameters: string[] }>(
    `SELECT p.proname AS name,
            array(SELECT a.name FROM unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) AS a (name, type)
                   WHERE a.type = 'text'::regtype) AS parameters
       FROM pg_proc AS p
      WHERE p.pronamespace = 'public'::regnamespace AND has_function_privilege(p.oid, 'EXECUTE')
      ORDER BY 1`,
  );
  return rows;
}

describe('a 1 MB value in any text parameter of any API function, as the application role', () => {
  it('covers every text parameter of the API (the catalog is the list)', async () => {
    const functions = await apiTextParameters();
    expect(functions.map((f) => f.name)).toEqual([
      'canonical_email',
      'preview_email_verification',
      'register_user_with_token',
      'resend_email_verification',
      'sign_in_credentials',
      'verify_email',
    ]);
    for (const parameter of functions.flatMap((f) => f.parameters)) expect(Object.keys(BOUNDS)).toContain(parameter);
  });

  it('is refused by its bound, with the SQLSTATE of that argument, naming it and the limit, never quoting the value', async () => {
    const outcomes: string[] = [];
    for (const { name, parameters } of await apiTextParameters()) {
      for (const huge of parameters) {
        const args = parameters.map((p) => (p === huge ? HUGE[p] : VALID[p]));
        const call = `SELECT * FROM ${name}(${parameters.map((p, i) => `${p} => $${i + 1}::text`).join(', ')})`;
        const error = await sqlError(app.query(call, args));
        const bound = BOUNDS[huge];
        if (bound === undefined) throw new Error(`no bound for ${huge}`);
        outcomes.push(`${name}(${huge}): ${error.code ?? ''} ${error.message}`);
        // Never more than a few characters of the value (an e-mail address may be quoted cut to 100).
        expect(errorText(error)).not.toMatch(/([A-Za-z0-9])\1{100}/);
      }
    }
    expect(outcomes).toEqual(
      (await apiTextParameters()).flatMap(({ name, parameters }) =>
        parameters.map((p) => {
          const bound = BOUNDS[p];
          return `${name}(${p}): ${bound?.code ?? ''} ${p}: must be at most ${bound?.max ?? ''} characters`;
        }),
      ),
    );
  });
});

describe('the e-mail address bounds', () => {
  async function canonical(email: string): Promise<string> {
    const { rows } = await app.query<{ c: string }>('SELECT canonical_email($1::text) AS c', [email]);
    return single(rows).c;
  }

  it('a 16,000-character ACE label is refused by the 1024-character bound, in every function that takes an address', async () => {
    const ace = `a@xn--${'a'.repeat(16_000)}`;
    for (const call of ['SELECT canonical_email($1::text)', 'SELECT * FROM register_user_with_token($1::text)', 'SELECT * FROM sign_in_credentials($1::text)', 'SELECT * FROM resend_email_verification($1::text)']) {
      const error = await expectSqlState(app.query(call, [ace]), 'AU005');
      expect(error.message).toBe('p_email: must be at most 1024 characters');
    }
  });

  it('1024 characters as given pass the bound (then the address rules apply), 1025 do not; multi-byte characters count once', async () => {
    const address = 'ada@example.com';
    expect(await canonical(`${' '.repeat(1024 - address.length)}${address}`)).toBe(address);
    expect((await expectSqlState(canonical(`${' '.repeat(1025 - address.length)}${address}`), 'AU005')).message).toBe('p_email: must be at most 1024 characters');
    // 1024 four-byte characters: 4096 bytes, within the bound; refused for what they are.
    const emoji = `a@b.${'\u{1f600}'.repeat(1020)}`;
    expect(Array.from(emoji)).toHaveLength(1024);
    expect((await expectSqlState(canonical(emoji), 'AU005')).message).not.toContain('1024');
    expect((await expectSqlState(canonical(`${emoji}\u{1f600}`), 'AU005')).message).toBe('p_email: must be at most 1024 characters');
  });

  it('a domain label of 63 characters is accepted, 64 are refused as given, before decoding or mapping', async () => {
    const label63 = 'b'.repeat(63);
    expect(await canonical(`a@${label63}.com`)).toBe(`a@${label63}.com`);
    const reg = await app.query<{ outcome: string }>('SELECT outcome FROM register_user_with_token($1::text)', [`a@${label63}.com`]);
    expect(single(reg.rows).outcome).toBe('created');
    const refusals = [
      `a@${'b'.repeat(64)}.com`,
      `a@example.${'b'.repeat(64)}`,
      `a@xn--${'a'.repeat(60)}.com`, // an ACE label never reaches the decoder
      `a@${'\uff42'.repeat(64)}.com`, // fullwidth: 64 characters as given
      ` a@${'b'.repeat(64)}\t`,
    ];
    for (const email of refusals) {
      const error = await expectSqlState(canonical(email), 'AU005');
      expect(error.message).toBe('p_email: each domain label must be at most 63 characters');
    }
    const signIn = await expectSqlState(app.query('SELECT * FROM sign_in_credentials($1::text)', [`a@${'b'.repeat(64)}.com`]), 'AU005');
    expect(signIn.message).toBe('p_email: each domain label must be at most 63 characters');
  });

  it('labels end at every character the IDNA mapping makes a full stop, and the mapped label is held to 63 too', async () => {
    const [b, c] = ['b'.repeat(40), 'c'.repeat(40)];
    for (const stop of ['.', '\u3002', '\uff0e', '\uff61', '\u2024']) expect(await canonical(`a@${b}${stop}${c}.com`)).toBe(`a@${b}.${c}.com`);
    // 20 characters as given, 80 once NFKC has expanded them: refused by the mapped label's bound.
    const error = await expectSqlState(canonical(`a@${'\u3300'.repeat(20)}.jp`), 'AU005');
    expect(error.message).toBe('p_email: each domain label must be at most 63 characters');
    expect(error.detail).toContain('80 characters');
  });

  it('NFKC expansion and the lower-case table work on at most 254 characters of domain and 256 of local part, whatever 1,024 characters came in', async () => {
    // 15 labels of 63 x U+FDFA (18 characters each once NFKC has expanded them: 17,000 in all) and one letter of
    // each block of the lower-case table: every label within 63 as given, the whole within 1,024.
    const expanding = `a@${Array.from({ length: 15 }, () => '\ufdfa'.repeat(63)).join('.')}.\u00e0\u0250\u0531\u2010\u{10400}`;
    expect(Array.from(expanding).length).toBeLessThanOrEqual(1024);
    for (const call of ['SELECT canonical_email($1::text)', 'SELECT * FROM register_user_with_token($1::text)', 'SELECT * FROM sign_in_credentials($1::text)']) {
      const error = await expectSqlState(app.query(call, [expanding]), 'AU005');
      expect(error.message).toBe('p_email: the domain must be at most 253 characters');
    }
    // NFC composes at most 4 code points into one: 257 as given can never be a local part of 64.
    const local = `${'e\u0301'.repeat(128)}x@example.com`;
    expect((await expectSqlState(canonical(local), 'AU005')).detail).toBe('The local part (before "@") must be 1 to 64 characters long.');
    expect(await canonical(`${'e\u0301'.repeat(64)}@example.com`)).toBe(`${'\u00e9'.repeat(64)}@example.com`);
  });

  it('the ASCII fast path never accepts a label the full path refuses', async () => {
    const owner = await db.pool.connect();
    try {
      await createTryFullCanonical(owner);
      for (const email of [`a@${'b'.repeat(64)}.com`, `a@b.${'c'.repeat(64)}`, `a@${'b'.repeat(63)}.com`]) {
        const { rows } = await owner.query<{ fast: string | null; ok: boolean; full: string | null }>(
          'SELECT authdb_email_ascii_canonical($1) AS fast, authdb_email_is_ascii_canonical($1) AS ok, pg_temp.try_full($1) AS full',
          [email],
        );
        const { fast, ok, full } = single(rows);
        expect({ email, fast, ok }).toEqual({ email, fast: full, ok: full === email });
      }
    } finally {
      owner.release();
    }
  });
});

describe('the other bounds, at the limit', () => {
  it('p_phone: 64 characters pass the bound, 65 do not', async () => {
    const phone = '+4930123456789';
    const padded = `${' '.repeat(64 - phone.length)}${phone}`;
    const { rows } = await app.query<{ outcome: string }>('SELECT outcome FROM register_user_with_token($1::text, p_phone => $2::text)', [uniqueEmail('phone64'), padded]);
    expect(single(rows).outcome).toBe('created');
    const error = await expectSqlState(app.query('SELECT * FROM register_user_with_token($1::text, p_phone => $2::text)', [uniqueEmail('phone65'), ` ${padded}`]), 'AU006');
    expect(error.message).toBe('p_phone: must be at most 64 characters');
  });

  it('p_role: 63 characters are an unknown role, 64 are out of bounds (both AU003)', async () => {
    const unknown = await expectSqlState(app.query('SELECT * FROM register_user_with_token($1::text, p_role => $2::text)', [uniqueEmail('role'), 'r'.repeat(63)]), 'AU003');
    expect(unknown.message).toContain('does not exist');
    const long = await expectSqlState(app.query('SELECT * FROM register_user_with_token($1::text, p_role => $2::text)', [uniqueEmail('role'), 'r'.repeat(64)]), 'AU003');
    expect(long.message).toBe('p_role: must be at most 63 characters');
  });

  it('p_token and p_registration_secret: 64 characters are looked up, 65 are not', async () => {
    const unknown = await expectSqlState(app.query('SELECT verify_email($1::text, $2::text)', ['t'.repeat(64), 's'.repeat(64)]), 'AU010');
    expect(unknown.message).toBe('p_token: unknown email verification token');
    const { rows } = await app.query<{ token_state: string }>('SELECT token_state FROM preview_email_verification($1::text, $2::text)', ['t'.repeat(64), 's'.repeat(64)]);
    expect(single(rows).token_state).toBe('unknown');
    for (const [token, secret, parameter] of [['t'.repeat(65), null, 'p_token'], ['t'.repeat(43), 's'.repeat(65), 'p_registration_secret']] as const) {
      for (const call of ['SELECT verify_email($1::text, $2::text)', 'SELECT * FROM preview_email_verification($1::text, $2::text)']) {
        const error = await expectSqlState(app.query(call, [token, secret]), 'AU009');
        expect(error.message).toBe(`${parameter}: must be at most 64 characters`);
      }
    }
  });
});

describe('authdb_check_email_import (the operator tool)', () => {
  it('lists a 1 MB address as invalid by its bound, without working through it', async () => {
    const owner = await db.pool.connect();
    await owner.query("SET statement_timeout = '20s'");
    const error = await expectSqlState(owner.query('SELECT authdb_check_email_import($1::text[])', [['ok@example.com', `a@@${'x'.repeat(MB)}`]]), 'AU005').finally(() => {
      owner.release();
    });
    expect(error.message).toBe('p_emails: 1 of 2 addresses cannot be imported as they are');
    expect(error.detail).toContain('#2 "a@@xxxxxxxx');
    expect(error.detail).toContain('is invalid: p_email: must be at most 1024 characters');
    expect(error.detail?.length).toBeLessThan(1000);
  });
});
