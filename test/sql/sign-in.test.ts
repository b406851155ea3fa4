// sign_in_credentials: a row for a confirmed address only, looked up with
// registration's own normalisation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectSqlState, register, signIn, uniqueEmail, verify, verifyAsRegistrant } from './helpers.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
});

afterAll(async () => {
  await db.close();
});

describe('sign_in_credentials', () => {
  it('returns id, password hash and role of a confirmed account, whatever the spelling of the address', async () => {
    const email = uniqueEmail('signin');
    const reg = await register(db.pool, email, { passwordHash: 'the-hash' });
    await verifyAsRegistrant(db.pool, reg);
    const expected = { user_id: reg.user_id, password_hash: 'the-hash', role: 'user' };
    expect(await signIn(db.pool, email)).toEqual(expected);
    expect(await signIn(db.pool, `\t ${email.toUpperCase()} `)).toEqual(expected);
  });

  it('returns no row for an unknown or an unconfirmed address', async () => {
    expect(await signIn(db.pool, uniqueEmail('nobody'))).toBeUndefined();
    const email = uniqueEmail('pending');
    await register(db.pool, email, { passwordHash: 'pending-hash' });
    expect(await signIn(db.pool, email)).toBeUndefined();
  });

  it('returns the row with a NULL hash for a passwordless account', async () => {
    const email = uniqueEmail('passwordless');
    const reg = await register(db.pool, email);
    await verify(db.pool, reg.token);
    expect(await signIn(db.pool, email)).toEqual({ user_id: reg.user_id, password_hash: null, role: 'user' });
  });

  it('AU005 for an invalid address, AU009 for NULL', async () => {
    await expectSqlState(signIn(db.pool, 'not an address'), 'AU005');
    await expectSqlState(signIn(db.pool, null), 'AU009');
  });
});
