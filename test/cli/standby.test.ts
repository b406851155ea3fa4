// migrate up/down/baseline against a hot standby: refused before the lock
// with AUTHDB_STANDBY, instead of a file's first statement failing with 25006.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { startPrimaryAndStandby, type PrimaryAndStandby } from '../support/standby.js';
import { waitFor } from '../support/wait.js';

let servers: PrimaryAndStandby;

beforeAll(async () => {
  servers = await startPrimaryAndStandby();
}, 120_000);

afterAll(async () => {
  await servers.stop();
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a hot standby as the target', { timeout: 120_000 }, () => {
  it('is a standby: in recovery, answering queries', async () => {
    expect(await query(servers.standbyUrl, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    expect(await query(servers.primaryUrl, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: false }]);
  });

  for (const command of [['migrate', 'up'], ['migrate', 'down', '--all'], ['migrate', 'baseline']]) {
    it(`${command.join(' ')} fails with AUTHDB_STANDBY, saying to point at the primary, before taking the migration lock`, async () => {
      const result = await runMain([...command, '--database-url', servers.standbyUrl, '--schema', 'authdb']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('[AUTHDB_STANDBY]');
      expect(result.stderr).toContain(`the server is a standby (pg_is_in_recovery() is true): it replays a primary's changes and accepts no writes, so ${command.slice(0, 2).join(' ')} cannot run there`);
      expect(result.stderr).toContain('Point --database-url (or DATABASE_URL) at the primary');
      expect(result.stderr).not.toContain('AUTHDB_SQL');
      expect(result.stderr).not.toContain('25006');
    });
  }

  it('the primary migrates, and the standby then has the install it replayed', async () => {
    const up = await runMain(['migrate', 'up', '--database-url', servers.primaryUrl, '--schema', 'authdb']);
    expect(up.stderr).not.toContain('error');
    expect(up.code).toBe(0);
    // (--schema authdb: on PostgreSQL 14 PUBLIC may create in public, which authdb refuses.)
    // The standby receives the install by streaming; wait for its replay to reach the primary's position.
    const [position] = await query<{ lsn: string }>(servers.primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor('the standby to replay the install', async () => {
      const [replay] = await query<{ caught: boolean }>(servers.standbyUrl, `SELECT pg_last_wal_replay_lsn() >= '${position?.lsn ?? ''}'::pg_lsn AS caught`);
      return replay?.caught === true;
    });
    const status = await runMain(['migrate', 'status', '--database-url', servers.standbyUrl, '--schema', 'authdb']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^applied\s+20261125000001_roles/m);
    const down = await runMain(['migrate', 'down', '--database-url', servers.standbyUrl, '--schema', 'authdb']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('[AUTHDB_STANDBY]');
  });
});
