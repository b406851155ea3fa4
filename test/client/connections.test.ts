// The three connection forms (URL, pg.Pool, Kysely), a non-public schema,
// who closes what, and errors that are not authdb's passing through.
import { CamelCasePlugin, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthDbError, createAuthDb, EmailAlreadyRegisteredError, type AuthDb, type AuthDbConnection } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { expectDatabaseError, rejection, uniqueEmail } from './helpers.js';

let publicDb: TestDatabase;
let authSchemaDb: TestDatabase;

beforeAll(async () => {
  [publicDb, authSchemaDb] = await Promise.all([createMigratedDatabase(), createMigratedDatabase({ schema: 'auth' })]);
});

afterAll(async () => {
  await Promise.all([publicDb.close(), authSchemaDb.close()]);
});

/** Every method once, checked against the tables. */
async function exerciseEverything(authDb: AuthDb, database: TestDatabase, schema: string): Promise<void> {
  const email = uniqueEmail();
  const registered = await authDb.registerUser({ email, password: 'pw', tokenTtl: '1 hour' });
  expect(registered.outcome).toBe('created');
  // Throttle off: a resend may start within a millisecond of the registration.
  const resent = await authDb.resendEmailVerification(email, { minResendInterval: 0, registrationSecret: registered.registrationSecret });
  expect(await authDb.listOutstandingTokens(registered.userId)).toHaveLength(1);
  expect(await authDb.previewEmailVerification(resent.token, { registrationSecret: registered.registrationSecret })).toMatchObject({ tokenValid: true, setsPassword: true });
  expect(await authDb.verifyEmail(resent.token, { registrationSecret: registered.registrationSecret })).toEqual({ userId: registered.userId });
  expect(await authDb.verifyPassword({ email, password: 'pw' })).toEqual({ userId: registered.userId, role: 'user' });
  expect((await authDb.findUserByEmail(email))?.emailConfirmedAt).toBeInstanceOf(Date);
  await expectDatabaseError(authDb.registerUser({ email }), EmailAlreadyRegisteredError, 'AU001');
  expect(await authDb.purgeExpiredTokens('1 day')).toBe(0);
  const { rows } = await database.pool.query<{ confirmed: boolean }>(
    `SELECT email_confirmed_at IS NOT NULL AS confirmed FROM ${pg.escapeIdentifier(schema)}.users WHERE id = $1`,
    [registered.userId],
  );
  expect(rows).toEqual([{ confirmed: true }]);
}

describe.each([
  ['public', () => publicDb],
  ['auth', () => authSchemaDb],
] as const)('schema %s', (schema, database) => {
  const options = schema === 'public' ? {} : { schema };

  it('works with a connection string, and destroy() closes the pool it opened', async () => {
    const authDb = createAuthDb({ connection: database().url, ...options });
    await exerciseEverything(authDb, database(), schema);
    await authDb.destroy();
    expect(String(await rejection(authDb.findUserByEmail(uniqueEmail())))).toMatch(/destroyed|pool/i);
  });

  it('works with a pg.Pool, and destroy() leaves the pool open', async () => {
    const pool = new pg.Pool({ connectionString: database().url });
    try {
      const authDb = createAuthDb({ connection: pool, ...options });
      await exerciseEverything(authDb, database(), schema);
      await authDb.destroy();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('works with a Kysely instance (its plugins bypassed), and destroy() leaves it open', async () => {
    const kysely = new Kysely<{ pets: { petId: number } }>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database().url }) }),
      plugins: [new CamelCasePlugin()],
    });
    try {
      const authDb = createAuthDb({ connection: kysely, ...options });
      await exerciseEverything(authDb, database(), schema);
      await authDb.destroy();
      // Still open, and still camel-casing its own results.
      expect((await sql<{ stillOpen: number }>`select 1 as still_open`.execute(kysely)).rows).toEqual([{ stillOpen: 1 }]);
    } finally {
      await kysely.destroy();
    }
  });

  it('joins the transaction of a Kysely Transaction it is given', async () => {
    const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database().url }) }) });
    try {
      const email = uniqueEmail();
      const rolledBack = new Error('roll back');
      const outcome = await kysely
        .transaction()
        .execute(async (trx) => {
          const inTransaction = createAuthDb({ connection: trx, ...options });
          await inTransaction.registerUser({ email });
          expect(await inTransaction.findUserByEmail(email)).toBeDefined();
          throw rolledBack;
        })
        .catch((error: unknown) => error);
      expect(outcome).toBe(rolledBack);
      expect(await createAuthDb({ connection: kysely, ...options }).findUserByEmail(email)).toBeUndefined();
    } finally {
      await kysely.destroy();
    }
  });
});

describe('errors that are not authdb errors', () => {
  it('pass through untouched: functions missing from the schema (42883), tables missing (42P01)', async () => {
    // The auth-schema database has nothing in public.
    const wrongSchema = createAuthDb({ connection: authSchemaDb.pool });
    const missingFunction = await rejection(wrongSchema.registerUser({ email: uniqueEmail() }));
    expect(missingFunction).toBeInstanceOf(pg.DatabaseError);
    expect(missingFunction).not.toBeInstanceOf(AuthDbError);
    expect((missingFunction as pg.DatabaseError).code).toBe('42883');
    const missingTable = await rejection(wrongSchema.findUserByEmail(uniqueEmail()));
    expect(missingTable).toBeInstanceOf(pg.DatabaseError);
    expect((missingTable as pg.DatabaseError).code).toBe('42P01');
  });

  it('pass through untouched: connection failures', async () => {
    const unreachable: AuthDbConnection = 'postgres://nobody:secret@127.0.0.1:1/nowhere';
    const authDb = createAuthDb({ connection: unreachable });
    const error = await rejection(authDb.verifyEmail('token'));
    expect(error).not.toBeInstanceOf(AuthDbError);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    await authDb.destroy();
  });
});
