// register_user_with_token: every row of the behaviour table, argument
// validation and normalisation, the squatter case and atomicity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import {
  backdate,
  count,
  errorText,
  expectSqlState,
  register,
  resend,
  single,
  tokenRow,
  tokensOf,
  uniqueEmail,
  uniquePhone,
  userByEmail,
  userById,
  verify,
  verifyAsRegistrant,
} from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

/** Marks a (confirmed) user's phone as confirmed, as the (separate) phone confirmation flow would. */
async function confirmPhone(userId: string): Promise<void> {
  await db.pool.query('UPDATE users SET phone_confirmed_at = now() WHERE id = $1', [userId]);
}

describe('new e-mail address', () => {
  it("creates a user holding no credentials; the token carries the request's details (outcome 'created')", async () => {
    const email = uniqueEmail('new');
    const phone = uniquePhone();
    const result = await register(db.pool, email, { passwordHash: 'argon2id$hash-1', phone });

    expect(result.outcome).toBe('created');
    expect(result.user_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // base64url without padding of 32 random bytes (two UUIDs).
    expect(result.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.registration_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.registration_secret).not.toBe(result.token);

    // An unconfirmed user holds no password hash and no phone.
    const user = await userById(db.pool, result.user_id);
    expect(user).toMatchObject({
      email,
      phone: null,
      password_hash: null,
      role: 'user',
      email_confirmed_at: null,
      phone_confirmed_at: null,
    });
    expect(user.updated_at).toEqual(user.created_at);

    const token = await tokenRow(db.pool, result.token);
    expect(token).toMatchObject({
      user_id: result.user_id,
      password_hash: 'argon2id$hash-1',
      phone,
      role: 'user',
      consumed_at: null,
      revoked_at: null,
      has_secret: true,
    });
    expect(token.expires_at).toEqual(result.expires_at);
    // Default TTL: 24 hours after issue.
    expect(token.expires_at.getTime() - token.created_at.getTime()).toBe(24 * 3600 * 1000);
  });

  it('stores only the SHA-256 of the token and of the registration secret, never the plaintext', async () => {
    const result = await register(db.pool, uniqueEmail('hash'));
    const { rows } = await db.pool.query<{ token_hash: Buffer; registration_secret_hash: Buffer; as_text: string }>(
      `SELECT token_hash, registration_secret_hash, t::text AS as_text FROM email_verification_tokens AS t WHERE user_id = $1`,
      [result.user_id],
    );
    const row = single(rows);
    const { createHash } = await import('node:crypto');
    expect(row.token_hash.equals(createHash('sha256').update(result.token, 'utf8').digest())).toBe(true);
    expect(row.registration_secret_hash.equals(createHash('sha256').update(result.registration_secret, 'utf8').digest())).toBe(true);
    expect(row.as_text).not.toContain(result.token);
    expect(row.as_text).not.toContain(result.registration_secret);
  });

  it('issues a different token and registration secret every time', async () => {
    const values = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      const { token, registration_secret } = await register(db.pool, uniqueEmail('rand'));
      values.add(token).add(registration_secret);
    }
    expect(values.size).toBe(40);
  });

  it('honours p_token_ttl and allows passwordless, phoneless registration', async () => {
    const result = await register(db.pool, uniqueEmail('ttl'), { tokenTtl: '15 minutes' });
    const token = await tokenRow(db.pool, result.token);
    expect(token.expires_at.getTime() - token.created_at.getTime()).toBe(15 * 60 * 1000);
    const user = await userById(db.pool, result.user_id);
    expect(user.password_hash).toBeNull();
    expect(user.phone).toBeNull();
  });
});

describe('existing e-mail address', () => {
  it('AU001 when the address is registered and confirmed; nothing is written', async () => {
    const email = uniqueEmail('confirmed');
    const first = await register(db.pool, email, { passwordHash: 'secret-hash-1' });
    await verify(db.pool, first.token);
    await backdate(db.pool, first.user_id, '1 hour');
    const before = await tokensOf(db.pool, first.user_id);

    const error = await expectSqlState(register(db.pool, `  ${email.toUpperCase()} `, { passwordHash: 'secret-hash-2' }), 'AU001');
    expect(error.message).toBe(`p_email: email "${email}" is already registered and confirmed`);
    expect(errorText(error)).not.toContain('secret-hash');
    expect(await tokensOf(db.pool, first.user_id)).toEqual(before);
  });

  it('AU008 when the last token was issued less than p_min_resend_interval ago; nothing is written', async () => {
    const email = uniqueEmail('throttle');
    const first = await register(db.pool, email);
    const before = await tokensOf(db.pool, first.user_id);

    const error = await expectSqlState(register(db.pool, email, { passwordHash: 'other-hash' }), 'AU008');
    expect(error.message).toMatch(/^p_email: a verification token for ".+" was issued less than 00:01:00 ago$/);
    expect(error.hint).toMatch(/^Retry after /);
    expect(await tokensOf(db.pool, first.user_id)).toEqual(before);

    // A custom interval applies too.
    await backdate(db.pool, first.user_id, '2 minutes');
    await expectSqlState(register(db.pool, email, { minResendInterval: '5 minutes' }), 'AU008');
    expect((await register(db.pool, email, { minResendInterval: '90 seconds' })).outcome).toBe('reissued');
  });

  it("reissues for an unconfirmed user: same id, old token still valid, user row untouched (outcome 'reissued')", async () => {
    const email = uniqueEmail('reissue');
    const phone1 = uniquePhone();
    const phone2 = uniquePhone();
    const first = await register(db.pool, email, { passwordHash: 'hash-first', phone: phone1 });
    const userBefore = await userById(db.pool, first.user_id);
    await backdate(db.pool, first.user_id, '2 minutes');

    await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('reissue_role', true)");
    const second = await register(db.pool, email.toUpperCase(), { passwordHash: 'hash-second', phone: phone2, role: 'reissue_role' });
    expect(second.outcome).toBe('reissued');
    expect(second.user_id).toBe(first.user_id);
    expect(second.token).not.toBe(first.token);

    // The user row is not changed by a reissue ...
    expect(await userById(db.pool, first.user_id)).toEqual(userBefore);
    // ... the new token carries this request's details instead.
    const [old, current, ...rest] = await tokensOf(db.pool, first.user_id);
    expect(rest).toEqual([]);
    // A later registration never revokes an earlier one's token.
    expect(old).toMatchObject({ password_hash: 'hash-first', phone: phone1, revoked_at: null, consumed_at: null });
    expect(second.registration_secret).not.toBe(first.registration_secret);
    expect(current).toMatchObject({ password_hash: 'hash-second', phone: phone2, role: 'reissue_role', revoked_at: null, consumed_at: null });
    expect((await tokenRow(db.pool, second.token)).id).toBe(current?.id);
  });

  it('reissues after the previous token expired', async () => {
    const email = uniqueEmail('expired');
    const first = await register(db.pool, email);
    await backdate(db.pool, first.user_id, '3 days');
    const second = await register(db.pool, email);
    expect(second).toMatchObject({ outcome: 'reissued', user_id: first.user_id });
    await expectSqlState(verify(db.pool, first.token), 'AU011');
    expect(await verify(db.pool, second.token)).toBe(first.user_id);
  });
});

describe('phone numbers', () => {
  it('AU002 when the phone is confirmed by another user; nothing is written', async () => {
    const phone = uniquePhone();
    const other = await register(db.pool, uniqueEmail('phone-owner'), { phone });
    await verifyAsRegistrant(db.pool, other);
    await confirmPhone(other.user_id);
    const usersBefore = await count(db.pool, 'users');

    const formatted = `${phone.slice(0, 3)} (${phone.slice(3, 6)}) ${phone.slice(6, 9)}-${phone.slice(9)}`;
    const email = uniqueEmail('phone-claimer');
    const error = await expectSqlState(register(db.pool, email, { phone: formatted, passwordHash: 'pw-hash-x' }), 'AU002');
    expect(error.message).toBe(`p_phone: phone "${phone}" is already registered and confirmed by another user`);
    expect(errorText(error)).not.toContain('pw-hash-x');
    expect(await userByEmail(db.pool, email)).toBeUndefined();
    expect(await count(db.pool, 'users')).toBe(usersBefore);

    // Same for a reissue of an existing unconfirmed user.
    const existing = await register(db.pool, uniqueEmail('phone-reissue'));
    await backdate(db.pool, existing.user_id, '2 minutes');
    const before = await tokensOf(db.pool, existing.user_id);
    const reissueEmail = (await userById(db.pool, existing.user_id)).email;
    await expectSqlState(register(db.pool, reissueEmail, { phone }), 'AU002');
    expect(await tokensOf(db.pool, existing.user_id)).toEqual(before);
  });

  it('allows a phone that other users claim without having confirmed it', async () => {
    const phone = uniquePhone();
    const a = await register(db.pool, uniqueEmail('claim-a'), { phone });
    const b = await register(db.pool, uniqueEmail('claim-b'), { phone });
    expect([a.outcome, b.outcome]).toEqual(['created', 'created']);
    await verifyAsRegistrant(db.pool, a);
    await verifyAsRegistrant(db.pool, b);
    expect(await count(db.pool, 'users WHERE phone = $1', [phone])).toBe(2);
  });

  it.each([
    ['+1 (555) 010-9999', '+15550109999'],
    ['+44.20.7946.0958', '+442079460958'],
    ['+49 151-2345 6789', '+4915123456789'],
    ['+12345678', '+12345678'], // 8 digits, the minimum
    ['+123456789012345', '+123456789012345'], // 15 digits, the maximum
  ])('normalises phone %j to %j', async (input, stored) => {
    const result = await register(db.pool, uniqueEmail('phone-norm'), { phone: input });
    expect((await tokenRow(db.pool, result.token)).phone).toBe(stored);
    await verifyAsRegistrant(db.pool, result);
    expect((await userById(db.pool, result.user_id)).phone).toBe(stored);
  });

  it.each([
    ['empty string', ''],
    ['no leading +', '15550109999'],
    ['00 prefix', '0015550109999'],
    ['7 digits', '+1234567'],
    ['16 digits', '+1234567890123456'],
    ['letters', '+1555CALLNOW'],
    ['double +', '++15550109999'],
    ['+ in the middle', '1+5550109999'],
    ['tab separator', '+1\t5550109999'],
    ['slash separator', '+1/555/0109999'],
    ['full-width digits', '+１５５５０１０９９９９'],
    ['only separators', ' -.() '],
  ])('AU006 for an invalid phone (%s); nothing is written', async (_label, phone) => {
    const email = uniqueEmail('bad-phone');
    const error = await expectSqlState(register(db.pool, email, { phone }), 'AU006');
    expect(error.message).toMatch(/^p_phone: ".*" is not a valid E\.164 phone number$/);
    expect(await userByEmail(db.pool, email)).toBeUndefined();
  });
});

describe('roles', () => {
  it('AU003 for an unknown role, AU004 for a role that is not self-assignable, AU009 for NULL', async () => {
    const email = uniqueEmail('role');
    const unknown = await expectSqlState(register(db.pool, email, { role: 'superuser' }), 'AU003');
    expect(unknown.message).toBe('p_role: role "superuser" does not exist');
    const admin = await expectSqlState(register(db.pool, email, { role: 'admin' }), 'AU004');
    expect(admin.message).toBe('p_role: role "admin" cannot be self-assigned at registration');
    await expectSqlState(register(db.pool, email, { role: null }), 'AU009');
    // Roles are matched exactly.
    await expectSqlState(register(db.pool, email, { role: 'User' }), 'AU003');
    expect(await userByEmail(db.pool, email)).toBeUndefined();
  });

  it('escapes untrusted role names in messages', async () => {
    const error = await expectSqlState(register(db.pool, uniqueEmail('role'), { role: 'x\ny"z' }), 'AU003');
    expect(error.message).toBe('p_role: role "x\\u000ay\\"z" does not exist');
  });

  it('treats roles as data: a new self-assignable role works without code changes', async () => {
    await db.pool.query("INSERT INTO roles (name, description, self_assignable) VALUES ('editor', 'Edits things', true)");
    const result = await register(db.pool, uniqueEmail('editor'), { role: 'editor' });
    expect((await userById(db.pool, result.user_id)).role).toBe('editor');

    await db.pool.query("UPDATE roles SET self_assignable = false WHERE name = 'editor'");
    await expectSqlState(register(db.pool, uniqueEmail('editor'), { role: 'editor' }), 'AU004');
  });
});

describe('e-mail normalisation and validation', () => {
  const local64 = 'l'.repeat(64);
  /** A domain of `length` characters in labels of at most 63 (the DNS limit). */
  const domainOf = (length: number): string => `${'d'.repeat(63)}.`.repeat(3) + 'd'.repeat(length - 64 * 3);

  it.each([
    ['  Alice.Smith@Example.COM  ', 'alice.smith@example.com'],
    ['\t\r\n Bob@Example.com \n', 'bob@example.com'],
    ['user+tag@example.com', 'user+tag@example.com'],
    ["o'brien!#$%&*/=?^_`{|}~-@example.com", "o'brien!#$%&*/=?^_`{|}~-@example.com"],
    // Non-ASCII is allowed. (How lower() folds non-ASCII capitals depends on
    // the database's collation, so only lower-case input is asserted here.)
    ['jörg@exämple.de', 'jörg@exämple.de'],
    ['user@localhost', 'user@localhost'],
    [`${local64}@example.com`, `${local64}@example.com`],
    [`a@${domainOf(252)}`, `a@${domainOf(252)}`], // 254 characters
  ])('accepts %j as %j', async (input, stored) => {
    const result = await register(db.pool, input);
    expect((await userById(db.pool, result.user_id)).email).toBe(stored);
  });

  it('compares addresses after normalisation', async () => {
    const email = uniqueEmail('case');
    const first = await register(db.pool, email);
    await backdate(db.pool, first.user_id, '2 minutes');
    const second = await register(db.pool, `\t${email.toUpperCase()}  `);
    expect(second).toMatchObject({ outcome: 'reissued', user_id: first.user_id });
  });

  it.each([
    ['empty', '', 'p_email: email address is empty'],
    ['only whitespace', ' \t\n ', 'p_email: email address is empty'],
    ['no @', 'plainaddress', 'must contain exactly one "@"'],
    ['two @', 'a@b@example.com', 'must contain exactly one "@"'],
    ['empty local part', '@example.com', 'The local part'],
    ['65-character local part', `${'l'.repeat(65)}@example.com`, 'The local part'],
    ['empty domain', 'user@', 'The domain'],
    ['255 characters', `a@${domainOf(253)}`, 'longer than 254 characters'],
    ['inner space', 'john doe@example.com', 'whitespace, control'],
    ['inner tab', 'john\tdoe@example.com', 'whitespace, control'],
    ['newline in domain', 'john@example\n.com', 'whitespace, control'],
    ['control character', 'john\u0007@example.com', 'whitespace, control'],
    ['DEL', 'john\u007f@example.com', 'whitespace, control'],
    ['no-break space', 'john\u00a0doe@example.com', 'whitespace, control'],
    ['zero-width space', 'john\u200b@example.com', 'whitespace, control'],
    ['right-to-left override', 'john\u202e@example.com', 'whitespace, control'],
    ['ideographic space', 'john\u3000@example.com', 'whitespace, control'],
    ['byte order mark', '\ufeffjohn@example.com', 'whitespace, control'],
  ])('AU005 for %s; nothing is written', async (_label, email, reason) => {
    const usersBefore = await count(db.pool, 'users');
    const error = await expectSqlState(register(db.pool, email), 'AU005');
    expect(`${error.message} ${error.detail ?? ''}`).toContain(reason);
    // Untrusted input is echoed escaped: never a raw control or invisible character.
    const unsafe = Array.from(error.message, (ch) => ch.codePointAt(0) ?? 0).filter((cp) => {
      return cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || cp === 0x3000 || cp === 0xfeff;
    });
    expect(unsafe).toEqual([]);
    expect(await count(db.pool, 'users')).toBe(usersBefore);
  });

  it('AU009 for a NULL e-mail', async () => {
    const error = await expectSqlState(register(db.pool, null), 'AU009');
    expect(error.message).toBe('p_email: must not be NULL');
  });
});

describe('other arguments (AU009)', () => {
  it('rejects an empty password hash', async () => {
    const error = await expectSqlState(register(db.pool, uniqueEmail('pw'), { passwordHash: '' }), 'AU009');
    expect(error.message).toMatch(/^p_password_hash: /);
  });

  it.each([
    ['p_token_ttl', { tokenTtl: null }],
    ['p_token_ttl', { tokenTtl: '0' }],
    ['p_token_ttl', { tokenTtl: '-1 hour' }],
    ['p_token_ttl', { tokenTtl: '1 day -25 hours' }],
    ['p_min_resend_interval', { minResendInterval: null }],
    ['p_min_resend_interval', { minResendInterval: '-5 minutes' }],
    ['p_min_resend_interval', { minResendInterval: '1 day -25 hours' }],
  ])('rejects %s = %j', async (name, options) => {
    const email = uniqueEmail('interval');
    const error = await expectSqlState(register(db.pool, email, options), 'AU009');
    expect(error.message.startsWith(`${name}: `)).toBe(true);
    expect(await userByEmail(db.pool, email)).toBeUndefined();
  });

  it('rejects an infinite TTL (PostgreSQL 17+ has infinite intervals)', async () => {
    const { rows } = await db.pool.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
    if (single(rows).v < 170000) return;
    await expectSqlState(register(db.pool, uniqueEmail('inf'), { tokenTtl: 'infinity' }), 'AU009');
  });

  it('validates arguments before looking at existing state', async () => {
    const email = uniqueEmail('order');
    const first = await register(db.pool, email);
    await verify(db.pool, first.token);
    // Confirmed address, but the argument error wins.
    await expectSqlState(register(db.pool, email, { role: 'admin' }), 'AU004');
    await expectSqlState(register(db.pool, email, { phone: 'nope' }), 'AU006');
    await expectSqlState(register(db.pool, email), 'AU001');
  });
});

describe('atomicity', () => {
  it('a failure after the user row was inserted leaves no user behind', async () => {
    const client = await db.pool.connect();
    try {
      await client.query(`
        CREATE FUNCTION test_fail_token_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION USING ERRCODE = 'XX123', MESSAGE = 'injected failure'; END $$`);
      await client.query(`
        CREATE TRIGGER test_fail_token_insert BEFORE INSERT ON email_verification_tokens
        FOR EACH ROW EXECUTE FUNCTION test_fail_token_insert()`);

      // New address: the user row is inserted, then the token insert fails.
      const email = uniqueEmail('rollback');
      await expectSqlState(register(client, email, { passwordHash: 'h' }), 'XX123');
      expect(await userByEmail(client, email)).toBeUndefined();

      // Existing address: the token insert fails after the user was locked.
      await client.query('ALTER TABLE email_verification_tokens DISABLE TRIGGER test_fail_token_insert');
      const existing = await register(client, uniqueEmail('rollback'));
      await backdate(client, existing.user_id, '2 minutes');
      const before = await tokensOf(client, existing.user_id);
      await client.query('ALTER TABLE email_verification_tokens ENABLE TRIGGER test_fail_token_insert');
      const existingEmail = (await userById(client, existing.user_id)).email;
      await expectSqlState(register(client, existingEmail), 'XX123');
      expect(await tokensOf(client, existing.user_id)).toEqual(before);
    } finally {
      await client.query('DROP TRIGGER IF EXISTS test_fail_token_insert ON email_verification_tokens');
      await client.query('DROP FUNCTION IF EXISTS test_fail_token_insert()');
      client.release();
    }
  });
});

describe('password hash length', () => {
  it('a hash of more than 1024 characters is AU009 in register_user_with_token and verify_email; 1024 is accepted', async () => {
    const long = `$argon2id$${'x'.repeat(1025 - 10)}`;
    expect(long).toHaveLength(1025);
    await expectSqlState(register(db.pool, uniqueEmail('long'), { passwordHash: long }), 'AU009');
    const ok = await register(db.pool, uniqueEmail('long'), { passwordHash: long.slice(1) });
    await expectSqlState(verify(db.pool, ok.token, { passwordHash: long }), 'AU009');
    expect(await verify(db.pool, ok.token, { registrationSecret: ok.registration_secret })).toBe(ok.user_id);
    expect((await userById(db.pool, ok.user_id)).password_hash).toHaveLength(1024);
  });
});

describe('the address to mail', () => {
  it('register_user_with_token and resend_email_verification return the stored (canonical) address, not the typed spelling', async () => {
    const local = `kate.${uniqueEmail('x').split('@')[0] ?? ''}`;
    // A Kelvin sign (U+212A) folds to "k".
    const typed = `\u212A${local.slice(1)}@Example.COM`;
    const reg = await register(db.pool, typed);
    expect(reg.email).toBe(`${local}@example.com`);
    expect((await userById(db.pool, reg.user_id)).email).toBe(reg.email);
    const again = await resend(db.pool, `\u212A${local.slice(1)}@EXAMPLE.com`, { minResendInterval: '0 seconds' });
    expect(again.email).toBe(reg.email);
    const reissued = await register(db.pool, ` ${local.toUpperCase()}@EXAMPLE.com `, { minResendInterval: '0 seconds' });
    expect(reissued).toMatchObject({ outcome: 'reissued', email: reg.email });
  });
});
