import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { LockTimeoutError } from './errors.js';
import { fromUtcText, utcTextSql } from '../sql/timestamp-text.js';
import { UnstableSessionError } from './session-stability.js';

/** Who holds the migration lock, as `pg_stat_activity` reports it. */
export interface LockHolder {
  readonly pid: number;
  readonly applicationName: string;
  readonly connectedSince: Date;
  readonly state: string | null;
}

export interface AcquireLockOptions {
  /** How long to wait for another run to finish. */
  readonly timeoutMs: number;
  /** Called once when the lock is busy, with its holder. */
  readonly onWait?: (holder: LockHolder | undefined) => void;
  /** Pause between attempts. Default is 200 ms. */
  readonly pollMs?: number;
  /** Stops the wait (Ctrl-C): the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** First key of every authdb advisory lock: "authdb" folded into a positive int4. */
export const LOCK_CLASS = 0x61757468;

/**
 * Takes the session advisory lock of `schema` on `client`, which must not be
 * inside a transaction (so the lock outlives each migration's transaction and
 * `CREATE INDEX CONCURRENTLY` never waits on the lock holder).
 *
 * It polls with `pg_try_advisory_lock` instead of blocking in
 * `pg_advisory_lock`: a blocked statement holds a snapshot, which would make
 * the holder's `CREATE INDEX CONCURRENTLY` wait for the waiter — a deadlock.
 *
 * Returns a function that releases the lock.
 */
export async function acquireMigrationLock(client: ClientBase, schema: string, options: AcquireLockOptions): Promise<() => Promise<void>> {
  const key = lockKey(schema);
  const deadline = Date.now() + options.timeoutMs;
  let reported = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await tryLock(client, schema, key)) {
      await assertLockHeld(client, schema, key);
      return () => releaseLock(client, schema, key);
    }
    const holder = await lockHolder(client, key);
    if (!reported) {
      options.onWait?.(holder);
      reported = true;
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(
        `another migration run on schema "${schema}" held the lock for longer than ${options.timeoutMs} ms` +
          `${holder ? ` (${describeHolder(holder)})` : ''}; retry later or raise --lock-timeout`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
}

/** Whether the backend running the statement holds the lock keyed ($1, $2), in SQL. */
const HELD_HERE = `EXISTS (SELECT FROM pg_catalog.pg_locks AS l
                  WHERE l.locktype = 'advisory' AND l.granted AND l.pid = pg_catalog.pg_backend_pid()
                    AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid AND l.objsubid = 2)`;

/**
 * One attempt. A backend that holds the lock before this command asked for it
 * is a pooled session another client (another run) took it in: an advisory
 * lock is re-entrant, so taking it there would let two runs in at once.
 */
async function tryLock(client: ClientBase, schema: string, key: number): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean | null; pid: number }>(
    `WITH earlier AS MATERIALIZED (
       SELECT ${HELD_HERE} AS held)
     SELECT CASE WHEN earlier.held THEN NULL ELSE pg_catalog.pg_try_advisory_lock($1::int4, $2::int4) END AS ok,
            pg_catalog.pg_backend_pid() AS pid
       FROM earlier`,
    [LOCK_CLASS, key],
  );
  const row = rows[0];
  if (row?.ok === null) {
    throw new UnstableSessionError(
      `server session ${row.pid} already held the migration lock on schema "${schema}" before this command asked for it: ` +
        'it is a pooled session that another client took the lock in',
    );
  }
  return row?.ok === true;
}

/**
 * The lock must be held by the backend that runs the next statement: through
 * a pooler in transaction mode it stays behind on a backend we no longer have.
 */
async function assertLockHeld(client: ClientBase, schema: string, key: number): Promise<void> {
  const { rows } = await client.query<{ held: boolean; pid: number }>(
    `SELECT ${HELD_HERE} AS held, pg_catalog.pg_backend_pid() AS pid`,
    [LOCK_CLASS, key],
  );
  if (!rows[0]?.held) {
    throw new UnstableSessionError(
      `the migration lock on schema "${schema}" was taken in one server session and the next statement ran in another (backend pid ${rows[0]?.pid ?? '?'}); ` +
        'the lock stays with the pooled session that took it until that server connection closes (PgBouncer: RECONNECT in its admin console, or SELECT pg_terminate_backend(pid) for the pid pg_locks shows)',
    );
  }
}

/** `pg_advisory_unlock` returning false means another backend holds our lock: an error, never ignored. */
async function releaseLock(client: ClientBase, schema: string, key: number): Promise<void> {
  const { rows } = await client.query<{ ok: boolean; pid: number }>(
    'SELECT pg_catalog.pg_advisory_unlock($1::int4, $2::int4) AS ok, pg_catalog.pg_backend_pid() AS pid',
    [LOCK_CLASS, key],
  );
  if (!rows[0]?.ok) {
    throw new UnstableSessionError(
      `releasing the migration lock on schema "${schema}" failed: server session ${rows[0]?.pid ?? '?'} did not hold it, so the lock was taken in another session and is still held there`,
      'The migrations this run reported were applied; no other run can take the lock until that session ends.',
    );
  }
}

/** Human-readable description of a lock holder for diagnostics. */
export function describeHolder(holder: LockHolder): string {
  const app = holder.applicationName === '' ? 'no application_name' : `application "${holder.applicationName}"`;
  return `held by pid ${holder.pid}, ${app}, connected since ${holder.connectedSince.toISOString()}${holder.state ? `, ${holder.state}` : ''}`;
}

async function lockHolder(client: ClientBase, key: number): Promise<LockHolder | undefined> {
  const { rows } = await client.query<Omit<LockHolder, 'connectedSince'> & { connectedSince: string }>(
    `SELECT a.pid, coalesce(a.application_name, ''::text) AS "applicationName", ${utcTextSql('a.backend_start')} AS "connectedSince", a.state
       FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::integer::oid AND l.objid = $2::integer::oid AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())`,
    [LOCK_CLASS, key],
  );
  const row = rows[0];
  return row === undefined ? undefined : { ...row, connectedSince: fromUtcText(row.connectedSince) };
}

/** Second key: the schema name hashed into a positive int4, so pg_locks shows it unchanged. */
export function lockKey(schema: string): number {
  return createHash('sha256').update(schema).digest().readUInt32BE(0) & 0x7fffffff;
}
