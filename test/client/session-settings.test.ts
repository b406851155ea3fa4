// The client reads every timestamp in a form no session setting changes: a
// database whose DateStyle, TimeZone, IntervalStyle and extra_float_digits
// are hostile (set on the database, and by the application's own pool on
// each connection) still gets the right dates from every method.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDb, type AuthDb } from '../../src/index.js';
import { createMigratedDatabase, type TestDatabase } from '../support/database.js';
import { uniqueEmail } from './helpers.js';

const HOSTILE = {
  DateStyle: 'SQL, DMY',
  TimeZone: 'Pacific/Chatham',
  IntervalStyle: 'sql_standard',
  extra_float_digits: '-15',
} as const;

let db: TestDatabase;
const pools: pg.Pool[] = [];
const clients: AuthDb[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase();
  for (const [name, value] of Object.entries(HOSTILE)) await db.pool.query(`ALTER DATABASE ${db.name} SET ${name} = '${value}'`);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  await Promise.all(pools.map((p) => p.end()));
  await db.close();
});

/** Milliseconds since the epoch of a timestamptz column, read as an integer (no setting changes it). */
async function epochMs(sql: string, params: unknown[]): Promise<number | null> {
  const { rows } = await db.pool.query<{ ms: string | null }>(`SELECT floor(extract(epoch FROM (${sql})) * 1000)::bigint::text AS ms`, params);
  return rows[0]?.ms === null || rows[0]?.ms === undefined ? null : Number(rows[0].ms);
}

const connections: readonly [string, () => pg.Pool | string][] = [
  ['the database’s settings (authdb’s own pool)', () => db.url],
  [
    'settings the application’s pool sets on each connection',
    () => {
      const pool = new pg.Pool({ connectionString: db.url, max: 2 });
      pool.on('connect', (client) => {
        void client.query("SET DateStyle = 'Postgres, DMY'; SET TimeZone = 'America/St_Johns'; SET IntervalStyle = 'iso_8601'");
      });
      pools.push(pool);
      return pool;
    },
  ],
];

describe.each(connections)('hostile DateStyle, TimeZone, IntervalStyle, extra_float_digits: %s', (_label, connection) => {
  it('every method returns the dates the database holds', async () => {
    const authDb = createAuthDb({ connection: connection() });
    clients.push(authDb);
    // The settings really are in force on the client's sessions.
    const fresh = new pg.Client({ connectionString: db.url });
    await fresh.connect();
    const { rows } = await fresh.query<{ d: string }>("SELECT current_setting('DateStyle') AS d").finally(() => fresh.end());
    expect(rows[0]?.d).toBe('SQL, DMY');

    const email = uniqueEmail('datestyle');
    const registered = await authDb.registerUser({ email, password: 'pw' });
    const tokenExpiry = await epochMs('SELECT max(expires_at) FROM email_verification_tokens WHERE user_id = $1::uuid', [registered.userId]);
    expect(registered.expiresAt.getTime()).toBe(tokenExpiry);
    expect(registered.expiresAt.getTime()).toBeGreaterThan(Date.UTC(2026, 0, 1));

    const preview = await authDb.previewEmailVerification(registered.token, { registrationSecret: registered.registrationSecret });
    expect(preview.expiresAt?.getTime()).toBe(tokenExpiry);

    const [outstanding] = await authDb.listOutstandingTokens(registered.userId);
    expect(outstanding?.expiresAt.getTime()).toBe(tokenExpiry);
    expect(outstanding?.createdAt.getTime()).toBe(await epochMs('SELECT min(created_at) FROM email_verification_tokens WHERE user_id = $1::uuid', [registered.userId]));

    const resent = await authDb.resendEmailVerification(email, { minResendInterval: 0, registrationSecret: registered.registrationSecret });
    expect(resent.expiresAt.getTime()).toBe(await epochMs('SELECT max(expires_at) FROM email_verification_tokens WHERE user_id = $1::uuid', [registered.userId]));

    await authDb.verifyEmail(resent.token, { registrationSecret: registered.registrationSecret });
    const user = await authDb.findUserByEmail(email);
    const confirmed = await epochMs('SELECT email_confirmed_at FROM users WHERE id = $1::uuid', [registered.userId]);
    expect(confirmed).not.toBeNull();
    expect(user?.emailConfirmedAt?.getTime()).toBe(confirmed);
    expect(user?.createdAt.getTime()).toBe(await epochMs('SELECT created_at FROM users WHERE id = $1::uuid', [registered.userId]));
    expect(user?.updatedAt.getTime()).toBe(await epochMs('SELECT updated_at FROM users WHERE id = $1::uuid', [registered.userId]));
  });
});
