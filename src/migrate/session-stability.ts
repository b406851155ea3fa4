import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';

/** A second session to the same server, opened only for the stability check. */
export interface ProbeSession {
  readonly client: ClientBase;
  close(): Promise<void>;
}

/** How long the check lets its probe transaction pin a pooled backend. Default is 2 s. */
export const DEFAULT_PROBE_HOLD_MS = 2_000;

/** What to tell users who reach PostgreSQL through a transaction-mode pool. */
export const POOLER_ADVICE =
  'authdb needs one server session for the whole run (its migration lock, its session settings and no-transaction files live in it), ' +
  'which a pooler in transaction or statement mode (PgBouncer pool_mode=transaction, Supabase\'s pooler port 6543) does not give; ' +
  'connect directly to PostgreSQL, or through a session-mode pool (PgBouncer pool_mode=session, Supabase\'s port 5432)';

/** The connection does not keep one server session: statements reach different backends. */
export class UnstableSessionError extends MigrationError {
  constructor(finding: string, outcome = 'Nothing was migrated.') {
    super('AUTHDB_UNSTABLE_SESSION', `${finding}; ${POOLER_ADVICE}. ${outcome}`);
  }
}

/**
 * Refuses a connection whose statements do not all reach one backend, as
 * through a pooler in transaction mode, before anything takes a lock or
 * runs. Two signs, each impossible on a direct or session-pooled
 * connection: the backend pid changes between two statements; a probe
 * session that opens a transaction is handed our backend (the pooler
 * reassigned it the moment our statement ended). Returns the backend pid.
 */
export async function assertStableSession(client: ClientBase, openProbe?: () => Promise<ProbeSession>): Promise<number> {
  const first = await backendPid(client);
  // A server or role at its connection limit cannot give a second session: the in-band check remains.
  const probe = openProbe && (await openProbe().catch(() => undefined));
  if (probe === undefined) {
    const second = await backendPid(client);
    if (second !== first) throw new UnstableSessionError(`two consecutive statements ran in different server sessions (backend pid ${first}, then ${second})`);
    return first;
  }
  try {
    await probe.client.query('BEGIN');
    const probePid = await backendPid(probe.client);
    if (probePid === first) {
      throw new UnstableSessionError(
        `another connection was handed this command's server session (backend pid ${first}) as soon as a statement ended: the connection goes through a pooler that reassigns sessions between transactions`,
      );
    }
    // Our next statement, while the probe's transaction pins whatever backend
    // it got. In a pool with no free backend this statement waits for the
    // probe: the probe lets go after a while, so the check never deadlocks.
    const mine = backendPid(client);
    await Promise.race([mine.then(() => undefined, () => undefined), new Promise<void>((resolve) => setTimeout(resolve, DEFAULT_PROBE_HOLD_MS).unref())]);
    await probe.client.query('COMMIT');
    const second = await mine;
    if (second !== first) throw new UnstableSessionError(`two consecutive statements ran in different server sessions (backend pid ${first}, then ${second})`);
    return first;
  } finally {
    await probe.close();
  }
}

async function backendPid(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_catalog.pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  if (pid === undefined) throw new Error('pg_backend_pid() returned no row');
  return pid;
}
