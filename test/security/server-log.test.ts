// Secrets out of server logs (issue 7, §4). A dedicated cluster logs every
// plan through auto_explain (log_min_duration = 0, nested statements,
// VERBOSE, no ANALYZE) and every failing statement (log_min_error_statement
// = error). The typed client, connected as an application role configured as
// README's "Security model" says, registers, reissues, hits AU008, verifies
// (once under a lock_timeout inside verify_email), resends, previews and signs
// in; afterwards the server log contains none of the plaintext tokens,
// registration secrets, password hashes or passwords of those calls.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { createAuthDb, ResendTooSoonError } from '../../src/index.js';
import { migrateDatabase, revokePublicCreate } from '../support/database.js';
import { embeddedBinariesPackage } from '../support/server-provider.js';
import { waitFor } from '../support/wait.js';

const APP_ROLE = 'authdb_log_app';
const APP_PASSWORD = 'app-password';

let dir: string;
let cluster: EmbeddedCluster;
let adminUrl: string;
let appUrl: string;
let admin: pg.Client;
let serverVersion: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'authdb-log-'));
  const binariesPackage = embeddedBinariesPackage();
  cluster = new EmbeddedCluster({
    dir,
    ephemeral: true,
    ...(binariesPackage ? { binariesPackage } : {}),
    settings: {
      shared_preload_libraries: "'auto_explain'",
      'auto_explain.log_min_duration': '0',
      'auto_explain.log_nested_statements': 'on',
      'auto_explain.log_verbose': 'on',
      'auto_explain.log_analyze': 'off',
      log_min_error_statement: 'error',
    },
  });
  await cluster.initialise();
  await cluster.start();
  adminUrl = await cluster.superuserUrl();
  await revokePublicCreate(adminUrl); // PostgreSQL 14: PUBLIC may create in public (the schema-trust check refuses it)
  await migrateDatabase(adminUrl);
  admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  serverVersion = Number((await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v);

  // The application role: EXECUTE on the API, and README's logging settings.
  await admin.query(`CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${APP_PASSWORD}'`);
  await admin.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
  await admin.query(`GRANT EXECUTE ON FUNCTION
      register_user_with_token(text, text, text, text, interval, interval),
      resend_email_verification(text, interval, interval, text),
      preview_email_verification(text, text),
      verify_email(text, text, text),
      sign_in_credentials(text)
    TO ${APP_ROLE}`);
  for (const setting of readmeRoleSettings(serverVersion)) await admin.query(`ALTER ROLE ${APP_ROLE} SET ${setting}`);
  const url = new URL(adminUrl);
  url.username = APP_ROLE;
  url.password = APP_PASSWORD;
  appUrl = url.toString();
});

afterAll(async () => {
  // beforeAll may have failed before assigning them.
  await (admin as pg.Client | undefined)?.end();
  await (cluster as EmbeddedCluster | undefined)?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The settings README's "Security model" gives for the application role (the auto_explain one exists from PostgreSQL 16). */
function readmeRoleSettings(version: number): string[] {
  const settings = ["log_statement = 'none'", 'log_parameter_max_length = 0', 'log_parameter_max_length_on_error = 0', 'plan_cache_mode = force_generic_plan'];
  return version >= 160000 ? [...settings, 'auto_explain.log_parameter_max_length = 0'] : settings;
}

describe('server log with auto_explain on every plan', () => {
  it('holds no token, registration secret, password hash or password of the typed client', async () => {
    const authDb = createAuthDb({ connection: appUrl, passwordHashing: { memoryCost: 8192, timeCost: 1 } });
    const secrets: string[] = [];
    const email = `log.${Date.now()}@example.com`;
    try {
      // register (created), reissue, AU008
      const first = await authDb.registerUser({ email, password: 'first plaintext password', phone: '+4915123456789' });
      const second = await authDb.registerUser({ email, password: 'second plaintext password', minResendInterval: 0 });
      await expect(authDb.registerUser({ email, password: 'third plaintext password' })).rejects.toBeInstanceOf(ResendTooSoonError);
      const resent = await authDb.resendEmailVerification(email, { minResendInterval: 0, registrationSecret: second.registrationSecret });
      secrets.push(first.token, first.registrationSecret, second.token, second.registrationSecret, resent.token);
      secrets.push('first plaintext password', 'second plaintext password', 'third plaintext password');
      expect((await authDb.previewEmailVerification(resent.token, { registrationSecret: second.registrationSecret })).setsPassword).toBe(true);

      // verify_email runs into a lock_timeout on the user row, then succeeds.
      const holder = new pg.Client({ connectionString: adminUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [first.userId]);
        const blocked = createAuthDb({ connection: `${appUrl}?options=${encodeURIComponent('-c lock_timeout=200')}` });
        const error = await blocked.verifyEmail(resent.token, { registrationSecret: second.registrationSecret }).catch((e: unknown) => e);
        await blocked.destroy();
        expect((error as { code?: string }).code).toBe('55P03');
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
      await authDb.verifyEmail(resent.token, { registrationSecret: second.registrationSecret });
      expect(await authDb.verifyPassword({ email, password: 'second plaintext password' })).toMatchObject({ userId: first.userId });
    } finally {
      await authDb.destroy();
    }
    // The password hashes that were sent: the registrations' and the user's.
    const { rows } = await admin.query<{ h: string }>(
      `SELECT password_hash AS h FROM email_verification_tokens WHERE password_hash IS NOT NULL
       UNION SELECT password_hash FROM users WHERE password_hash IS NOT NULL`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    secrets.push(...rows.map((r) => r.h));

    // A control, as a role without those settings: a bound value does reach
    // the log through the plan, so the log is really being searched.
    const canary = `canary-${Date.now()}`;
    await admin.query('SELECT $1::text AS canary', [canary]);

    const log = await waitForLog(canary);
    // auto_explain logged the functions' nested statements (so their plans were searched too).
    expect(log).toContain('INSERT INTO email_verification_tokens');
    expect(log).toContain('canceling statement due to lock timeout');
    const leaked = secrets.filter((secret) => log.includes(secret) || log.includes(secret.slice(0, 24)));
    expect(leaked).toEqual([]);
  });
});

describe('nested statements of the functions, whatever the caller\'s settings', () => {
  it('log no bound secret in their plans even for a session with custom plans and parameter logging', async () => {
    // The superuser session has none of README's role settings: its own
    // top-level plans show the bound values, the functions' nested plans must not.
    const email = `nested.${Date.now()}@example.com`;
    const hash = `$argon2id$v=19$m=8192,t=1,p=1$nested-${Date.now()}`;
    const reg = (
      await admin.query<{ token: string; registration_secret: string }>(
        'SELECT token, registration_secret FROM register_user_with_token(p_email => $1::text, p_password_hash => $2::text)',
        [email, hash],
      )
    ).rows[0];
    if (!reg) throw new Error('no registration');
    await admin.query('SELECT * FROM preview_email_verification($1::text, $2::text)', [reg.token, reg.registration_secret]);
    await admin.query('SELECT verify_email($1::text, $2::text)', [reg.token, reg.registration_secret]);
    const marker = `nested-done-${Date.now()}`;
    await admin.query('SELECT $1::text AS marker', [marker]);

    const nested = nestedPlanEntries(await waitForLog(marker));
    expect(nested.some((entry) => entry.includes('INSERT INTO email_verification_tokens'))).toBe(true);
    for (const secret of [reg.token, reg.registration_secret, hash]) {
      expect(nested.filter((entry) => entry.includes(secret))).toEqual([]);
    }
  });
});

/**
 * The auto_explain entries of statements run inside a PL/pgSQL function:
 * a "plan:" entry followed by the CONTEXT line naming the function.
 */
function nestedPlanEntries(log: string): string[] {
  const entries = log.split(/\n(?=\d{4}-\d{2}-\d{2} )/);
  return entries.filter((entry, i) => entry.includes(' plan:') && /CONTEXT: .*PL\/pgSQL function/s.test(entries[i + 1] ?? ''));
}

/** The server log once it contains `marker` (the logging collector writes asynchronously). */
async function waitForLog(marker: string): Promise<string> {
  let log = '';
  await waitFor(`the server log to show ${marker}`, async () => (log = await readFile(cluster.logFile, 'utf8')).includes(marker), { limitMs: 10_000 });
  return log;
}
