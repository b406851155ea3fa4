// Issue 14 §5: what a token grants is decided when it is used, not when it
// was issued or when the verifying transaction began.
// - A role made non-self-assignable after the registration is not applied
//   by verify_email (AU004, nothing changes, the token stays usable) nor
//   carried by resend_email_verification (AU004).
// - Expiry is decided by clock_timestamp(): a transaction that began before
//   the token expired does not get to verify it afterwards.
// Both failed before (the role was checked at issue only; expiry used now()).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';
import { expectSqlState, preview, register, resend, tokenRow, uniqueEmail, userById, verify, verifyAsRegistrant } from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
  await db.pool.query("INSERT INTO roles (name, self_assignable) VALUES ('seller', true), ('buyer', true)");
});

afterAll(async () => {
  await db.close();
});

describe('the role is checked when it takes effect', () => {
  it('verify_email refuses (AU004) a role made non-self-assignable after registration; nothing changes; the token stays usable', async () => {
    const reg = await register(db.pool, uniqueEmail('role-revoked'), { passwordHash: 'h', role: 'seller' });
    await db.pool.query("UPDATE roles SET self_assignable = false WHERE name = 'seller'");
    try {
      const error = await expectSqlState(verifyAsRegistrant(db.pool, reg), 'AU004');
      expect(error.message).toBe('p_token: the role "seller" this registration chose can no longer be self-assigned');
      expect(error.message).not.toContain(reg.token);
      expect(await userById(db.pool, reg.user_id)).toMatchObject({ email_confirmed_at: null, password_hash: null });
      expect(await tokenRow(db.pool, reg.token)).toMatchObject({ consumed_at: null, revoked_at: null });
      // A resend would carry the same role (with the secret, or the user's row without): refused too.
      const { email } = await userById(db.pool, reg.user_id);
      await expectSqlState(resend(db.pool, email, { minResendInterval: '0 seconds', registrationSecret: reg.registration_secret }), 'AU004');
      await expectSqlState(resend(db.pool, email, { minResendInterval: '0 seconds' }), 'AU004');
    } finally {
      await db.pool.query("UPDATE roles SET self_assignable = true WHERE name = 'seller'");
    }
    // Self-assignable again: the same token works and gives the role.
    expect(await verifyAsRegistrant(db.pool, reg)).toBe(reg.user_id);
    expect(await userById(db.pool, reg.user_id)).toMatchObject({ role: 'seller', password_hash: 'h' });
  });

  it('a later registration with a self-assignable role verifies, and the user gets that role', async () => {
    const email = uniqueEmail('role-other');
    const first = await register(db.pool, email, { role: 'buyer' });
    await db.pool.query("UPDATE roles SET self_assignable = false WHERE name = 'buyer'");
    try {
      await expectSqlState(verify(db.pool, first.token), 'AU004');
      const second = await register(db.pool, email, { minResendInterval: '0 seconds' });
      expect(await verifyAsRegistrant(db.pool, second)).toBe(first.user_id);
      expect((await userById(db.pool, first.user_id)).role).toBe('user');
    } finally {
      await db.pool.query("UPDATE roles SET self_assignable = true WHERE name = 'buyer'");
    }
  });
});

describe('expiry by the clock', () => {
  it('a transaction that began before the token expired cannot verify or preview it as valid after expiry', async () => {
    const email = uniqueEmail('clock');
    const session = new pg.Client({ connectionString: db.url });
    await session.connect();
    try {
      await session.query('BEGIN');
      await session.query('SELECT now()');
      // Issued after that transaction began (so its now() is earlier still), with a short lifetime.
      const reg = await register(db.pool, email, { passwordHash: 'h', tokenTtl: '200 milliseconds' });
      const { rows } = await session.query<{ before: boolean }>('SELECT now() < $1::timestamptz AS before', [reg.expires_at]);
      expect(rows[0]?.before).toBe(true);
      // Wait for the state "the clock is past expires_at", seen by the same transaction.
      await waitFor('clock_timestamp() past the token expiry', async () => {
        const { rows: past } = await session.query<{ past: boolean }>(
          "SELECT clock_timestamp() > expires_at AS past FROM email_verification_tokens WHERE token_hash = sha256(convert_to($1::text, 'UTF8'::name))",
          [reg.token],
        );
        return past[0]?.past === true;
      });
      expect((await preview(session, reg.token, reg.registration_secret)).token_state).toBe('expired');
      await expectSqlState(verifyAsRegistrant(session, reg), 'AU011');
    } finally {
      await session.query('ROLLBACK').catch(() => undefined);
      await session.end();
    }
  });
});
