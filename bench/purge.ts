/**
 * Section "purge" (issue 18 §6): what one purge_expired_email_verification_tokens
 * costs by table size. One database per size, bulk-loaded with that many
 * users (bench/fixtures.ts), 90 % of them then confirmed with their token
 * consumed (recently: nothing to purge yet), and an application table
 * `profiles` referencing users without ON DELETE CASCADE.
 *
 * - idle: a purge with nothing to do, median of REPEATS calls after one
 *   warm-up, against the 0.1.0 function (loaded beside it as
 *   bench_purge_before from the down file of the upgrade, which restores it)
 *   on the same rows without the index this version adds;
 * - work: one purge after 1 % of the users were made abandoned (unconfirmed,
 *   token expired 10 days ago), a tenth of those referenced by profiles;
 * - concurrent: CONCURRENT warm sessions purging at once with nothing to
 *   do, the slowest call (they never queue behind each other).
 * Run alone: BENCH_ONLY=purge npm run bench (sizes: BENCH_PURGE_SIZES).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { bulkLoad } from './fixtures.js';
import { RUN_ID, migrate, openPool, warmPool, withAdmin, type BenchServer } from './server.js';
import { median, round } from './stats.js';

const REPEATS = 7;
const CONCURRENT = 16;
const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface PurgeRow {
  readonly users: number;
  /** Median ms of an idle purge, 0.1.0's function. */
  readonly idleBeforeMs: number;
  /** Median ms of an idle purge, this version's. */
  readonly idleMs: number;
  /** Ms of the purge that found the abandoned users. */
  readonly workMs: number;
  readonly tokensDeleted: number;
  readonly usersDeleted: number;
  readonly usersKept: number;
  /** Slowest of CONCURRENT idle purges run at once. */
  readonly concurrentMaxMs: number;
}

export async function measurePurge(server: BenchServer, sizes: readonly number[], log: (line: string) => void): Promise<readonly PurgeRow[]> {
  const rows: PurgeRow[] = [];
  for (const size of sizes) {
    const url = await server.createDatabase(`p${size}`);
    await migrate(url);
    const row = await withAdmin(url, async (client) => {
      await prepare(client, size);
      // 0.1.0 as it ran: without the index this version adds (its query would use it).
      await client.query('DROP INDEX users_unconfirmed_created_at_idx');
      const idleBeforeMs = await idle(client, 'bench_purge_before()');
      await client.query('CREATE INDEX users_unconfirmed_created_at_idx ON users (created_at, id) WHERE email_confirmed_at IS NULL');
      const idleMs = await idle(client, 'purge_expired_email_verification_tokens()');
      await abandon(client, size);
      const users = async (): Promise<number> => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0]?.n);
      const before = await users();
      const started = performance.now();
      const { rows: r } = await client.query<{ n: string }>('SELECT purge_expired_email_verification_tokens() AS n');
      const workMs = performance.now() - started;
      const usersDeleted = before - (await users());
      const usersKept = Math.floor(size / 1000);
      return { idleBeforeMs, idleMs, workMs: round(workMs, 2), tokensDeleted: Number(r[0]?.n), usersDeleted, usersKept };
    });
    const concurrentMaxMs = await concurrent(url);
    rows.push({ users: size, ...row, concurrentMaxMs });
    log(`purge at ${size} users: idle ${row.idleMs} ms (0.1.0: ${row.idleBeforeMs} ms), with work ${row.workMs} ms, ${CONCURRENT} at once: max ${concurrentMaxMs} ms`);
  }
  return rows;
}

/** Loads the users, confirms 90 % of them, adds profiles and the 0.1.0 function. */
async function prepare(client: pg.Client, size: number): Promise<void> {
  await bulkLoad(client, [{ tag: `${RUN_ID}p`, count: size }]);
  await client.query(`WITH c AS (SELECT id FROM users ORDER BY id LIMIT ${Math.floor(size * 0.9)})
                      UPDATE email_verification_tokens SET consumed_at = now() WHERE user_id IN (SELECT id FROM c)`);
  await client.query('UPDATE users SET email_confirmed_at = now() WHERE id IN (SELECT user_id FROM email_verification_tokens WHERE consumed_at IS NOT NULL)');
  await client.query('CREATE TABLE profiles (user_id uuid PRIMARY KEY REFERENCES users (id))');
  await client.query(await beforeFunction());
  await client.query('VACUUM (ANALYZE) users, email_verification_tokens');
}

/** 1 % of the users abandoned (the unconfirmed ones first), a tenth of those with a profile. */
async function abandon(client: pg.Client, size: number): Promise<void> {
  await client.query(`CREATE TEMP TABLE gone AS SELECT id FROM users WHERE email_confirmed_at IS NULL ORDER BY id LIMIT ${Math.floor(size / 100)}`);
  await client.query(`UPDATE users SET created_at = created_at - '10 days'::interval WHERE id IN (SELECT id FROM gone)`);
  await client.query(`UPDATE email_verification_tokens SET created_at = created_at - '10 days'::interval, expires_at = created_at - '9 days'::interval
                       WHERE user_id IN (SELECT id FROM gone)`);
  await client.query(`INSERT INTO profiles SELECT id FROM gone ORDER BY id LIMIT ${Math.floor(size / 1000)}`);
}

async function idle(client: pg.Client, call: string): Promise<number> {
  await client.query(`SELECT ${call}`);
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    const started = performance.now();
    await client.query(`SELECT ${call}`);
    times.push(performance.now() - started);
  }
  return round(median(times), 2);
}

async function concurrent(url: string): Promise<number> {
  const pool = openPool(url, CONCURRENT);
  try {
    await warmPool(pool, CONCURRENT);
    const once = (): Promise<number[]> =>
      Promise.all(
        Array.from({ length: CONCURRENT }, async () => {
          const started = performance.now();
          await pool.query('SELECT purge_expired_email_verification_tokens()');
          return performance.now() - started;
        }),
      );
    await once(); // every session compiles the function once
    return round(Math.max(...(await once())), 2);
  } finally {
    await pool.end();
  }
}

/** 0.1.0's purge, as the down file of the upgrade that changed it restores it, renamed. */
async function beforeFunction(): Promise<string> {
  const names = (await readdir(MIGRATIONS)).filter((n) => n.endsWith('_purge_keeps_referenced_users.down.sql'));
  const [name] = names;
  if (name === undefined) throw new Error(`no *_purge_keeps_referenced_users.down.sql in ${MIGRATIONS}`);
  const down = await readFile(join(MIGRATIONS, name), 'utf8');
  const create = down.slice(down.indexOf('CREATE OR REPLACE FUNCTION'), down.indexOf('$function$;') + '$function$;'.length);
  return create.replace('purge_expired_email_verification_tokens(', 'bench_purge_before(');
}

export function formatPurge(rows: readonly PurgeRow[]): string[] {
  return [
    '**Purge** (`purge_expired_email_verification_tokens` by table size: 90 % confirmed; idle = nothing to purge, median; work = 1 % abandoned, a tenth of them referenced by `profiles`):',
    '',
    `| users | idle ms (0.1.0) | idle ms | work ms | tokens deleted | users deleted | users kept | ${CONCURRENT} at once, max ms |`,
    '|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map((r) => `| ${r.users} | ${r.idleBeforeMs} | ${r.idleMs} | ${r.workMs} | ${r.tokensDeleted} | ${r.usersDeleted} | ${r.usersKept} | ${r.concurrentMaxMs} |`),
    '',
  ];
}
