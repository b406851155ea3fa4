// The tables' own guarantees (constraints, foreign keys, indexes, triggers)
// and the security properties of the functions.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { count, expectSqlState, register, single, tokenRow, uniqueEmail, uniquePhone, userById, verify } from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

/** Inserts a user directly (bypassing the functions) and returns its id; a phone makes it a confirmed user. */
async function insertUser(email: string, extra: { phone?: string; confirmedPhone?: boolean } = {}): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO users (email, phone, role, email_confirmed_at, phone_confirmed_at)
     VALUES ($1, $2::text, 'user', CASE WHEN $2::text IS NOT NULL THEN now() END, CASE WHEN $3 THEN now() END) RETURNING id`,
    [email, extra.phone ?? null, extra.confirmedPhone ?? false],
  );
  return single(rows).id;
}

/** Inserts an outstanding token directly and returns its id. */
async function insertToken(userId: string): Promise<string> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at)
     VALUES ($1, sha256(uuid_send(gen_random_uuid())), 'user', now() + interval '1 hour') RETURNING id`,
    [userId],
  );
  return single(rows).id;
}

describe('roles', () => {
  it("is seeded with 'user' (self-assignable) and 'admin' (not)", async () => {
    const { rows } = await db.pool.query<{ name: string; self_assignable: boolean }>(
      "SELECT name, self_assignable FROM roles WHERE name IN ('user', 'admin') ORDER BY name",
    );
    expect(rows).toEqual([
      { name: 'admin', self_assignable: false },
      { name: 'user', self_assignable: true },
    ]);
  });

  it('keeps updated_at current through a trigger', async () => {
    await db.pool.query("INSERT INTO roles (name) VALUES ('auditor')");
    await db.pool.query("UPDATE roles SET description = 'Reads logs', updated_at = '2000-01-01' WHERE name = 'auditor'");
    const { rows } = await db.pool.query<{ created_at: Date; updated_at: Date; self_assignable: boolean }>(
      "SELECT created_at, updated_at, self_assignable FROM roles WHERE name = 'auditor'",
    );
    const role = single(rows);
    expect(role.self_assignable).toBe(false);
    // The trigger overrides the client's value; the two statements may fall in one millisecond.
    expect(role.updated_at.getTime()).toBeGreaterThanOrEqual(role.created_at.getTime());
  });

  it.each([' admin', 'Admin', '', '1st', 'has space', 'x'.repeat(64)])('rejects the role name %j (23514)', async (name) => {
    await expectSqlState(db.pool.query('INSERT INTO roles (name) VALUES ($1)', [name]), '23514');
  });

  it('cannot delete a role that users or tokens hold (23503)', async () => {
    await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('held', true)");
    const reg = await register(db.pool, uniqueEmail('held'), { role: 'held' });
    await expectSqlState(db.pool.query("DELETE FROM roles WHERE name = 'held'"), '23503');
    // Still held by the outstanding token once the user has another role.
    await db.pool.query("UPDATE users SET role = 'user' WHERE id = $1", [reg.user_id]);
    await expectSqlState(db.pool.query("DELETE FROM roles WHERE name = 'held'"), '23503');
  });
});

describe('users', () => {
  it.each([
    ['upper case', 'Bob@example.com'],
    ['surrounding spaces', ' bob@example.com'],
    ['no @', 'bob.example.com'],
    ['inner whitespace', 'bob smith@example.com'],
    ['65-character local part', `${'b'.repeat(65)}@example.com`],
    ['255 characters', `b@${`${'d'.repeat(63)}.`.repeat(3)}${'d'.repeat(61)}`], // labels of at most 63
  ])('CHECK rejects a non-canonical or invalid e-mail: %s (AU005, saying why)', async (_label, email) => {
    const error = await expectSqlState(insertUser(email), 'AU005');
    expect(error.message).toMatch(/not in canonical form|not a valid email address|longer than 254/);
  });

  it('rejects a duplicate e-mail (23505)', async () => {
    const email = uniqueEmail('dup');
    await insertUser(email);
    await expectSqlState(insertUser(email), '23505');
  });

  it.each(['12345678', '+1234567', '+1 5550109999', '+1234567890123456', ''])('CHECK rejects the phone %j (23514)', async (phone) => {
    await expectSqlState(insertUser(uniqueEmail('phone'), { phone }), '23514');
  });

  it('rejects an unknown role (23503), an empty password hash and a confirmed phone without a phone (23514)', async () => {
    await expectSqlState(db.pool.query("INSERT INTO users (email, role) VALUES ($1, 'nope')", [uniqueEmail('r')]), '23503');
    await expectSqlState(db.pool.query("INSERT INTO users (email, role, password_hash) VALUES ($1, 'user', '')", [uniqueEmail('r')]), '23514');
    await expectSqlState(
      db.pool.query("INSERT INTO users (email, role, phone_confirmed_at) VALUES ($1, 'user', now())", [uniqueEmail('r')]),
      '23514',
    );
  });

  it('an unconfirmed user holds no password hash and no phone (23514); a confirmed one may', async () => {
    await expectSqlState(db.pool.query("INSERT INTO users (email, role, password_hash) VALUES ($1, 'user', 'h')", [uniqueEmail('u')]), '23514');
    await expectSqlState(db.pool.query("INSERT INTO users (email, role, phone) VALUES ($1, 'user', $2)", [uniqueEmail('u'), uniquePhone()]), '23514');
    const id = await insertUser(uniqueEmail('u'));
    await expectSqlState(db.pool.query("UPDATE users SET password_hash = 'h' WHERE id = $1", [id]), '23514');
    await db.pool.query("UPDATE users SET password_hash = 'h', phone = $2, email_confirmed_at = now() WHERE id = $1", [id, uniquePhone()]);
    // Nor can a confirmed user with credentials become unconfirmed.
    await expectSqlState(db.pool.query('UPDATE users SET email_confirmed_at = NULL WHERE id = $1', [id]), '23514');
  });

  it('allows a phone on many unconfirmed users but only one confirmed (23505)', async () => {
    const phone = uniquePhone();
    await insertUser(uniqueEmail('p1'), { phone });
    await insertUser(uniqueEmail('p2'), { phone });
    await insertUser(uniqueEmail('p3'), { phone, confirmedPhone: true });
    await expectSqlState(insertUser(uniqueEmail('p4'), { phone, confirmedPhone: true }), '23505');
  });

  it('keeps updated_at current through a trigger, even if a client sets it', async () => {
    const id = await insertUser(uniqueEmail('touch'));
    await db.pool.query("UPDATE users SET role = 'user', updated_at = '2000-01-01' WHERE id = $1", [id]);
    const user = await userById(db.pool, id);
    // The trigger overrides the client's value; the two statements may fall in one millisecond.
    expect(user.updated_at.getTime()).toBeGreaterThanOrEqual(user.created_at.getTime());
  });
});

describe('email_verification_tokens', () => {
  it('rejects a token for a user that does not exist (23503)', async () => {
    const { rows } = await db.pool.query<{ id: string }>('SELECT gen_random_uuid() AS id');
    await expectSqlState(insertToken(single(rows).id), '23503');
  });

  it("deleting a user deletes the user's tokens (ON DELETE CASCADE)", async () => {
    const reg = await register(db.pool, uniqueEmail('cascade'));
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1', [reg.user_id])).toBe(1);
    await db.pool.query('DELETE FROM users WHERE id = $1', [reg.user_id]);
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1', [reg.user_id])).toBe(0);
    await expectSqlState(verify(db.pool, reg.token), 'AU010');
  });

  it('allows several outstanding tokens per user (one per pending registration)', async () => {
    const userId = await insertUser(uniqueEmail('several'));
    await insertToken(userId);
    await insertToken(userId);
    expect(await count(db.pool, 'email_verification_tokens WHERE user_id = $1 AND revoked_at IS NULL', [userId])).toBe(2);
  });

  it('a token without a registration secret carries no credentials (23514); secret hashes are SHA-256 sized', async () => {
    const userId = await insertUser(uniqueEmail('nosecret'));
    const insert = (columns: string, values: string) =>
      db.pool.query(
        `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at, ${columns})
         VALUES ($1, sha256(uuid_send(gen_random_uuid())), 'user', now() + interval '1 hour', ${values})`,
        [userId],
      );
    await expectSqlState(insert('password_hash', "'h'"), '23514');
    await expectSqlState(insert('phone', "'+4915123456789'"), '23514');
    await expectSqlState(insert('registration_secret_hash', "'\\x00'::bytea"), '23514');
    await insert('registration_secret_hash, password_hash, phone', "sha256('s'::bytea), 'h', '+4915123456789'");
  });

  it('rejects a duplicate token hash (23505)', async () => {
    const a = await insertUser(uniqueEmail('h1'));
    const b = await insertUser(uniqueEmail('h2'));
    const hash = randomBytes(32);
    const insert = (userId: string) =>
      db.pool.query(
        `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at) VALUES ($1, $2, 'user', now() + interval '1 hour')`,
        [userId, hash],
      );
    await insert(a);
    await expectSqlState(insert(b), '23505');
  });

  it.each([
    ['expires_at before created_at', "token_hash, role, expires_at) VALUES ($1, sha256('a'::bytea), 'user', now() - interval '1 second'"],
    ['expires_at equal to created_at', "token_hash, role, expires_at) VALUES ($1, sha256('b'::bytea), 'user', now()"],
    ['consumed and revoked', "token_hash, role, expires_at, consumed_at, revoked_at) VALUES ($1, sha256('c'::bytea), 'user', now() + interval '1 hour', now(), now()"],
    ['consumed before creation', "token_hash, role, expires_at, consumed_at) VALUES ($1, sha256('d'::bytea), 'user', now() + interval '1 hour', now() - interval '1 hour'"],
    ['a hash that is not SHA-256', "token_hash, role, expires_at) VALUES ($1, '\\x00'::bytea, 'user', now() + interval '1 hour'"],
    ['an invalid phone', "token_hash, role, expires_at, phone) VALUES ($1, sha256('e'::bytea), 'user', now() + interval '1 hour', '555'"],
  ])('CHECK rejects %s (23514)', async (_label, tail) => {
    const userId = await insertUser(uniqueEmail('check'));
    await expectSqlState(db.pool.query(`INSERT INTO email_verification_tokens (user_id, ${tail})`, [userId]), '23514');
  });

  it('rejects a token carrying an unknown role (23503)', async () => {
    const userId = await insertUser(uniqueEmail('token-role'));
    await expectSqlState(
      db.pool.query(
        `INSERT INTO email_verification_tokens (user_id, token_hash, role, expires_at) VALUES ($1, sha256('r'::bytea), 'nope', now() + interval '1 hour')`,
        [userId],
      ),
      '23503',
    );
  });
});

describe('function security', () => {
  const API = [
    'preview_email_verification(text,text)',
    'purge_expired_email_verification_tokens(interval)',
    'register_user_with_token(text,text,text,text,interval,interval)',
    'resend_email_verification(text,interval,interval,text)',
    'sign_in_credentials(text)',
    'verify_email(text,text,text)',
  ];
  /** API functions that read no table: SECURITY DEFINER (for their private helpers) without plan settings. */
  const API_PURE = ['canonical_email(text)'];

  interface FunctionInfo {
    signature: string;
    security_definer: boolean;
    config: string[] | null;
    /** A SQL function with a standard body (RETURN … / BEGIN ATOMIC): its names are bound at CREATE. */
    standard_body: boolean;
    sql: boolean;
    public_execute: boolean;
    public_in_acl: boolean;
  }

  async function functions(): Promise<FunctionInfo[]> {
    const { rows } = await db.pool.query<FunctionInfo>(`
      SELECT p.oid::regprocedure::text AS signature,
             p.prosecdef AS security_definer,
             p.proconfig AS config,
             p.prosqlbody IS NOT NULL AS standard_body,
             p.prolang = (SELECT l.oid FROM pg_language AS l WHERE l.lanname = 'sql') AS sql,
             has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
             EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                      WHERE a.grantee = 0) AS public_in_acl
        FROM pg_proc AS p
       WHERE p.pronamespace = 'public'::regnamespace
         AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
       ORDER BY 1`);
    return rows;
  }

  it('defines exactly the API and the authdb_* helpers', async () => {
    const names = (await functions()).map((f) => f.signature);
    expect(names.filter((n) => !n.startsWith('authdb_'))).toEqual([...API, ...API_PURE].sort());
    expect(names.filter((n) => n.startsWith('authdb_'))).toEqual([
      'authdb_check_email_import(text[],boolean)',
      'authdb_email_ascii_canonical(text)',
      'authdb_email_canonical_domain(text)',
      'authdb_email_canonical_once(text)',
      'authdb_email_is_ascii_canonical(text)',
      'authdb_email_lower(text)',
      'authdb_email_map_domain(text)',
      'authdb_email_unassigned_pattern()',
      'authdb_interval_is_valid(interval,boolean)',
      'authdb_normalize_phone(text)',
      'authdb_punycode_decode(text)',
      'authdb_quote_for_message(text)',
      'authdb_require_canonical_email(text)',
      'authdb_require_interval(interval,text,boolean)',
      'authdb_require_text_fits(text,text,integer,text)',
      'authdb_set_updated_at()',
      'authdb_text_fits(text,integer)',
    ]);
  });

  it('API functions are SECURITY DEFINER; helpers are not', async () => {
    for (const f of await functions()) {
      expect({ signature: f.signature, definer: f.security_definer }).toEqual({ signature: f.signature, definer: API.includes(f.signature) || API_PURE.includes(f.signature) });
    }
  });

  /** Inlinable helpers: SQL with a standard body, bound to its objects at CREATE, so no search_path is needed (or allowed: a SET clause prevents inlining). */
  const INLINED = ['authdb_email_ascii_canonical(text)', 'authdb_email_is_ascii_canonical(text)', 'authdb_interval_is_valid(interval,boolean)', 'authdb_text_fits(text,integer)'];

  it('every function pins search_path to the target schema and pg_temp (last), except the inlinable SQL helpers with a standard body; the API functions force generic plans', async () => {
    for (const f of await functions()) {
      const config = API.includes(f.signature)
        ? ['search_path=public, pg_temp', 'plan_cache_mode=force_generic_plan']
        : INLINED.includes(f.signature)
          ? null
          : ['search_path=public, pg_temp'];
      expect({ signature: f.signature, config: f.config }).toEqual({ signature: f.signature, config });
      if (f.config === null) expect({ signature: f.signature, sql: f.sql, standard_body: f.standard_body }).toEqual({ signature: f.signature, sql: true, standard_body: true });
    }
  });

  it('needs no extension', async () => {
    const { rows } = await db.pool.query<{ extname: string }>("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'");
    expect(rows).toEqual([]);
  });

  it('PUBLIC cannot execute any function', async () => {
    for (const f of await functions()) {
      expect({ signature: f.signature, execute: f.public_execute, acl: f.public_in_acl }).toEqual({
        signature: f.signature,
        execute: false,
        acl: false,
      });
    }
  });

  it('PUBLIC has no privilege on the tables', async () => {
    const { rows } = await db.pool.query<{ table: string; privilege: string }>(`
      SELECT t AS table, p AS privilege
        FROM unnest(ARRAY['roles', 'users', 'email_verification_tokens']) AS t,
             unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
       WHERE has_table_privilege('public', t, p)`);
    expect(rows).toEqual([]);
  });

  it('an application role granted EXECUTE registers and verifies without any table privilege', async () => {
    const role = `authdb_test_app_${randomBytes(4).toString('hex')}`;
    const client = await db.pool.connect();
    try {
      await client.query(`CREATE ROLE ${role} NOLOGIN`);
      await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await client.query(
        `GRANT EXECUTE ON FUNCTION register_user_with_token(text, text, text, text, interval, interval), verify_email(text, text, text) TO ${role}`,
      );
      await client.query(`SET ROLE ${role}`);
      const reg = await register(client, uniqueEmail('app'), { passwordHash: 'app-hash' });
      expect(await verify(client, reg.token)).toBe(reg.user_id);
      await expectSqlState(client.query('SELECT count(*) FROM users'), '42501');
      await expectSqlState(client.query('SELECT purge_expired_email_verification_tokens()'), '42501');
      await expectSqlState(client.query("SELECT authdb_email_ascii_canonical('a@b')"), '42501');
    } finally {
      await client.query('RESET ROLE');
      await client.query(`DROP OWNED BY ${role}`);
      await client.query(`DROP ROLE ${role}`);
      client.release();
    }
  });

  it('temporary tables cannot hijack the functions (pg_temp is searched last)', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('CREATE TEMP TABLE users (LIKE public.users)');
      await client.query('CREATE TEMP TABLE email_verification_tokens (LIKE public.email_verification_tokens)');
      const email = uniqueEmail('temp');
      const reg = await register(client, email);
      expect(await count(client, 'pg_temp.users')).toBe(0);
      expect(await count(client, 'pg_temp.email_verification_tokens')).toBe(0);
      expect((await userById(db.pool, reg.user_id)).email).toBe(email);
      expect((await tokenRow(db.pool, reg.token)).user_id).toBe(reg.user_id);
    } finally {
      await client.query('DROP TABLE IF EXISTS pg_temp.users, pg_temp.email_verification_tokens');
      client.release();
    }
  });
});
