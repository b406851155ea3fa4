// Shared helpers for the SQL API tests (test/sql/*.test.ts).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';

/** Anything that can run a query: a pool, a pooled client or a plain client. */
export type Queryable = pg.Pool | pg.ClientBase;

export interface Registration {
  readonly user_id: string;
  readonly token: string;
  readonly expires_at: Date;
  readonly outcome: 'created' | 'reissued';
  /** For the registering client only: verify_email applies the carried password and phone only with it. */
  readonly registration_secret: string;
  /** The address as stored (canonical): where the token is mailed. */
  readonly email: string;
}

/** One row of preview_email_verification. */
export interface Preview {
  readonly user_id: string | null;
  readonly token_state: 'valid' | 'unknown' | 'expired' | 'used' | 'revoked';
  readonly token_valid: boolean;
  readonly registration_secret_matches: boolean;
  readonly sets_password: boolean;
  readonly sets_phone: boolean;
  readonly role: string | null;
  readonly expires_at: Date | null;
}

/** One row of sign_in_credentials. */
export interface Credentials {
  readonly user_id: string;
  readonly password_hash: string | null;
  readonly role: string;
}

export interface IssuedToken {
  readonly user_id: string;
  readonly token: string;
  readonly expires_at: Date;
  /** The address as stored (canonical): where the token is mailed. */
  readonly email: string;
}

export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly phone: string | null;
  readonly password_hash: string | null;
  readonly role: string;
  readonly email_confirmed_at: Date | null;
  readonly phone_confirmed_at: Date | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export interface TokenRow {
  readonly id: string;
  readonly user_id: string;
  readonly password_hash: string | null;
  readonly phone: string | null;
  readonly role: string;
  readonly created_at: Date;
  readonly expires_at: Date;
  readonly consumed_at: Date | null;
  readonly revoked_at: Date | null;
  /** Whether the token carries a registration secret (hash). */
  readonly has_secret: boolean;
}

export interface RegisterOptions {
  readonly passwordHash?: string | null;
  readonly phone?: string | null;
  readonly role?: string | null;
  readonly tokenTtl?: string | null;
  readonly minResendInterval?: string | null;
}

/** A unique, valid e-mail address for one test. */
export function uniqueEmail(label = 'user'): string {
  return `${label}.${randomBytes(5).toString('hex')}@example.com`;
}

/** A unique, valid E.164 phone number. */
export function uniquePhone(): string {
  return `+4915${String(randomBytes(4).readUInt32BE() % 1e9).padStart(9, '0')}`;
}

/** The single row of a result, failing the test otherwise. */
export function single<T>(rows: readonly T[]): T {
  expect(rows).toHaveLength(1);
  const [row] = rows;
  if (row === undefined) throw new Error('unreachable: expected exactly one row');
  return row;
}

/**
 * register_user_with_token with named arguments; options left out use the
 * function's defaults, options set to null pass an explicit NULL.
 */
export async function register(db: Queryable, email: string | null, options: RegisterOptions = {}): Promise<Registration> {
  const args: string[] = ['p_email => $1'];
  const values: unknown[] = [email];
  const add = (name: string, value: string | null | undefined, type: string): void => {
    if (value === undefined) return;
    values.push(value);
    args.push(`${name} => $${values.length}::${type}`);
  };
  add('p_password_hash', options.passwordHash, 'text');
  add('p_phone', options.phone, 'text');
  add('p_role', options.role, 'text');
  add('p_token_ttl', options.tokenTtl, 'interval');
  add('p_min_resend_interval', options.minResendInterval, 'interval');
  const { rows } = await db.query<Registration>(
    `SELECT user_id, token, expires_at, outcome, registration_secret, email FROM register_user_with_token(${args.join(', ')})`,
    values,
  );
  return single(rows);
}

export async function resend(
  db: Queryable,
  email: string | null,
  options: { readonly tokenTtl?: string | null; readonly minResendInterval?: string | null; readonly registrationSecret?: string | null } = {},
): Promise<IssuedToken> {
  const args: string[] = ['p_email => $1'];
  const values: unknown[] = [email];
  if (options.tokenTtl !== undefined) {
    values.push(options.tokenTtl);
    args.push(`p_token_ttl => $${values.length}::interval`);
  }
  if (options.minResendInterval !== undefined) {
    values.push(options.minResendInterval);
    args.push(`p_min_resend_interval => $${values.length}::interval`);
  }
  if (options.registrationSecret !== undefined) {
    values.push(options.registrationSecret);
    args.push(`p_registration_secret => $${values.length}::text`);
  }
  const { rows } = await db.query<IssuedToken>(
    `SELECT user_id, token, expires_at, email FROM resend_email_verification(${args.join(', ')})`,
    values,
  );
  return single(rows);
}

/** verify_email; `registrationSecret` and `passwordHash` are passed (as named arguments) only when given. */
export async function verify(
  db: Queryable,
  token: string | null,
  options: { readonly registrationSecret?: string | null; readonly passwordHash?: string | null } = {},
): Promise<string> {
  const args: string[] = ['p_token => $1::text'];
  const values: unknown[] = [token];
  if (options.registrationSecret !== undefined) {
    values.push(options.registrationSecret);
    args.push(`p_registration_secret => $${values.length}::text`);
  }
  if (options.passwordHash !== undefined) {
    values.push(options.passwordHash);
    args.push(`p_password_hash => $${values.length}::text`);
  }
  const { rows } = await db.query<{ user_id: string }>(`SELECT verify_email(${args.join(', ')}) AS user_id`, values);
  return single(rows).user_id;
}

/** verify_email with the registration's own secret: what the registering client does. */
export function verifyAsRegistrant(db: Queryable, registration: Registration): Promise<string> {
  return verify(db, registration.token, { registrationSecret: registration.registration_secret });
}

export async function preview(db: Queryable, token: string | null, registrationSecret?: string | null): Promise<Preview> {
  const { rows } =
    registrationSecret === undefined
      ? await db.query<Preview>('SELECT * FROM preview_email_verification($1::text)', [token])
      : await db.query<Preview>('SELECT * FROM preview_email_verification($1::text, $2::text)', [token, registrationSecret]);
  return single(rows);
}

export async function signIn(db: Queryable, email: string | null): Promise<Credentials | undefined> {
  const { rows } = await db.query<Credentials>('SELECT user_id, password_hash, role FROM sign_in_credentials($1::text)', [email]);
  expect(rows.length).toBeLessThanOrEqual(1);
  return rows[0];
}

export async function purge(db: Queryable, olderThan?: string | null): Promise<number> {
  const { rows } =
    olderThan === undefined
      ? await db.query<{ n: string }>('SELECT purge_expired_email_verification_tokens() AS n')
      : await db.query<{ n: string }>('SELECT purge_expired_email_verification_tokens($1::interval) AS n', [olderThan]);
  return Number(single(rows).n);
}

export async function userByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE email = $1::text', [email]);
  return rows[0];
}

export async function userById(db: Queryable, id: string): Promise<UserRow> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return single(rows);
}

/** The user's tokens in issue order (without the hash). */
export async function tokensOf(db: Queryable, userId: string): Promise<TokenRow[]> {
  const { rows } = await db.query<TokenRow>(
    `SELECT id, user_id, password_hash, phone, role, created_at, expires_at, consumed_at, revoked_at,
            registration_secret_hash IS NOT NULL AS has_secret
       FROM email_verification_tokens WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows;
}

/** The stored row of a plaintext token, looked up by its SHA-256 hash. */
export async function tokenRow(db: Queryable, token: string): Promise<TokenRow> {
  const { rows } = await db.query<TokenRow>(
    `SELECT id, user_id, password_hash, phone, role, created_at, expires_at, consumed_at, revoked_at,
            registration_secret_hash IS NOT NULL AS has_secret
       FROM email_verification_tokens WHERE token_hash = sha256(convert_to($1::text, 'UTF8'::name))`,
    [token],
  );
  return single(rows);
}

/**
 * Moves every timestamp of a user's tokens (and the user) into the past, as if
 * the tokens had been issued `interval` earlier. Lets tests step over the
 * resend throttle and the expiry without sleeping.
 */
export async function backdate(db: Queryable, userId: string, interval: string): Promise<void> {
  await db.query(
    `UPDATE email_verification_tokens
        SET created_at  = created_at - $2::interval,
            expires_at  = expires_at - $2::interval,
            consumed_at = consumed_at - $2::interval,
            revoked_at  = revoked_at - $2::interval
      WHERE user_id = $1`,
    [userId, interval],
  );
}

/** The database error a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function sqlError(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    if (error instanceof pg.DatabaseError) return error;
    throw error;
  }
  throw new Error(`expected a database error, but the statement succeeded with ${JSON.stringify(outcome)}`);
}

/** Asserts that the promise fails with SQLSTATE `code`; returns the error for further checks. */
export async function expectSqlState(promise: Promise<unknown>, code: string): Promise<pg.DatabaseError> {
  const error = await sqlError(promise);
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  return error;
}

/** Everything an error tells the client, for "never echoes secrets" checks. */
export function errorText(error: pg.DatabaseError): string {
  return [error.message, error.detail, error.hint, error.where, error.internalQuery].filter((part) => part !== undefined).join('\n');
}

/** Counts rows of a table (test-only: the name is a literal in the test). */
export async function count(db: Queryable, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, values);
  return Number(single(rows).n);
}

/**
 * Opens `n` separate connections (real parallel sessions), each with its own
 * backend. Close them with closeAll().
 */
export async function connectMany(url: string, n: number): Promise<pg.Client[]> {
  const clients = Array.from({ length: n }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

export async function closeAll(clients: readonly pg.Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.end()));
}

/**
 * Runs `work` on every client at the same instant: each client first blocks
 * on a shared advisory lock that a gate connection holds exclusively; once
 * all of them are waiting (checked in pg_locks) the gate releases the lock and
 * every session proceeds at once. `work` then runs as its own statement(s),
 * so each call is still a single-statement transaction.
 */
export async function releaseTogether<T>(
  gate: pg.ClientBase,
  clients: readonly pg.Client[],
  work: (client: pg.Client, index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  // A positive 31-bit key: pg_locks then shows it as classid 0, objid = key.
  const key = randomBytes(4).readUInt32BE() >>> 1;
  await gate.query('SELECT pg_advisory_lock($1)', [key]);
  let released = false;
  try {
    const runs = clients.map(async (client, index) => {
      await client.query('SELECT pg_advisory_lock_shared($1), pg_advisory_unlock_shared($1)', [key]);
      return work(client, index);
    });
    // Settle-tracking starts now: sessions may fail as soon as the gate opens,
    // before this function gets back from the unlock round trip.
    const settled = Promise.allSettled(runs);
    const deadline = Date.now() + 20_000;
    for (let waiting = 0; waiting < clients.length; ) {
      if (Date.now() > deadline) throw new Error(`only ${waiting} of ${clients.length} sessions reached the barrier`);
      const { rows } = await gate.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_locks
          WHERE locktype = 'advisory' AND NOT granted AND classid = 0 AND objid = $1::bigint::oid AND objsubid = 1`,
        [key],
      );
      waiting = Number(single(rows).n);
      if (waiting < clients.length) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await gate.query('SELECT pg_advisory_unlock($1)', [key]);
    released = true;
    return await settled;
  } finally {
    if (!released) await gate.query('SELECT pg_advisory_unlock($1)', [key]);
  }
}

/** Groups settled results: fulfilled values, and rejections by SQLSTATE (or 'non-sql: message'). */
export function partition<T>(results: readonly PromiseSettledResult<T>[]): { values: T[]; errors: Map<string, number> } {
  const values: T[] = [];
  const errors = new Map<string, number>();
  for (const result of results) {
    if (result.status === 'fulfilled') {
      values.push(result.value);
    } else {
      const reason: unknown = result.reason;
      const key = reason instanceof pg.DatabaseError ? (reason.code ?? 'no-code') : `non-sql: ${String(reason)}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  }
  return { values, errors };
}

/**
 * Creates `pg_temp.try_full(text)` on `client`: canonical_email's full path
 * alone, without the ASCII fast path (the reference the fast path is checked
 * against); NULL for the documented refusals (AU005, AU009).
 */
export async function createTryFullCanonical(client: pg.ClientBase): Promise<void> {
  await client.query(`
    CREATE FUNCTION pg_temp.try_full(p text) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE v text;
    BEGIN
        v := authdb_email_canonical_once(p);
        IF v ~ '[^\\x01-\\x7f]' AND authdb_email_canonical_once(v) <> v THEN RETURN NULL; END IF;
        RETURN v;
    EXCEPTION WHEN SQLSTATE 'AU005' OR SQLSTATE 'AU009' THEN
        RETURN NULL;
    END $$`);
}
