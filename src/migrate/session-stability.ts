import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';

/** A second session to the same server, opened only for the stability check. */
export interface ProbeSession {
  readonly client: ClientBase;
  close(): Promise<void>;
}

/** How long the check lets its probe transaction pin a pooled backend, and waits for one. Default is 2 s. */
export const DEFAULT_PROBE_HOLD_MS = 2_000;

/**
 * How many rounds the check runs. Default is 3: on a busy transaction pool
 * another client can take this command's backend between two statements of
 * one round and hide the hand-over from that round; each round is another
 * chance to see it, and the lock and every migration check again.
 */
export const DEFAULT_PROBE_ROUNDS = 3;

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
 * runs. Returns the backend pid, which every later check compares with.
 *
 * On a direct or session-pooled connection the backend is this command's
 * alone, so each round below looks for three things that cannot happen there:
 * - a probe session that opens a transaction is handed this command's backend
 *   (a pooler reassigns a backend the moment a statement ends; PgBouncer
 *   hands out the most recently released one first);
 * - this command's backend, while the command is idle, is busy or ran a
 *   statement that is not this command's last one (`pg_stat_activity`);
 * - a statement of this command runs in another backend (before and after
 *   the probe releases the backend it held, which a pool hands out next).
 *
 * Without a probe session (the server or role at its connection limit, or a
 * full pool, where it waits for a backend) the check is in-band: this
 * command's statements, with pauses between, must stay in one backend that
 * runs no other client's transactions between them ({@link checkInBand}).
 */
export async function assertStableSession(client: ClientBase, openProbe?: () => Promise<ProbeSession>): Promise<number> {
  const session = await CheckedSession.start(client);
  const probe = openProbe && (await openWithin(openProbe, DEFAULT_PROBE_HOLD_MS));
  if (probe === undefined) {
    await checkInBand(session);
    return session.pid;
  }
  // Closed as soon as a round gives it up: its BEGIN may still wait in a
  // full pool, and once served it would pin that backend in a transaction
  // until closed -- in a pool of one, the backend our next statement waits
  // for (a hang that also blocks every other client of the pool).
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= probe.close());
  try {
    for (let round = 0; round < DEFAULT_PROBE_ROUNDS; round++) {
      if (!(await checkRound(session, probe.client))) {
        await close();
        break;
      }
    }
    await session.next();
    return session.pid;
  } finally {
    await close();
  }
}

/** In-band checks when there is no probe session, and the pause before each. */
const IN_BAND_CHECKS = 4;
const IN_BAND_PAUSE_MS = 50;

/**
 * Without a probe: pauses give another client of a transaction pool the
 * moment to slip a transaction into this command's backend. One gap alone is
 * not proof: an idle backend may run an empty transaction of its own to
 * catch up on shared invalidation messages (heavy DDL elsewhere on the
 * server), so it takes gaps at two checks to refuse.
 */
async function checkInBand(session: CheckedSession): Promise<void> {
  const gaps: number[] = [];
  for (let check = 0; check < IN_BAND_CHECKS; check++) {
    await new Promise((resolve) => setTimeout(resolve, IN_BAND_PAUSE_MS));
    const others = await session.next();
    if (others > 0) gaps.push(others);
  }
  if (gaps.length >= 2) {
    throw new UnstableSessionError(
      `this command's server session (backend pid ${session.pid}) ran other transactions between this command's statements ` +
        `(${gaps.join(', ')} at ${gaps.length} of ${IN_BAND_CHECKS} checks): the connection goes through a pooler that lends the session to other clients between transactions`,
    );
  }
}

/**
 * This command's statements during the check. Each must run in the same
 * backend as the first, and each counts the transactions that backend ran in
 * between: a backend numbers its transactions (the local part of the virtual
 * transaction id, `pg_locks.virtualxid` "backend/local"), so a gap means
 * another client's transaction ran in it -- a pooler lending our backend out,
 * seen even when the pid stays the same (a pool of one) -- or the backend's
 * own catch-up on invalidation messages (see {@link checkInBand}).
 */
class CheckedSession {
  readonly #client: ClientBase;
  readonly pid: number;
  #local: number | undefined;

  private constructor(client: ClientBase, mark: SessionMark) {
    this.#client = client;
    this.pid = mark.pid;
    this.#local = mark.local;
  }

  static async start(client: ClientBase): Promise<CheckedSession> {
    return new CheckedSession(client, await sessionMark(client));
  }

  /**
   * Runs this command's next statement (with `tag` in its text): fails if it
   * ran in another backend; returns how many other transactions that backend
   * ran since this command's last statement (0 when unknown).
   */
  async next(tag?: string): Promise<number> {
    const mark = await sessionMark(this.#client, tag);
    if (mark.pid !== this.pid) {
      throw new UnstableSessionError(`two statements of this command ran in different server sessions (backend pid ${this.pid}, then ${mark.pid})`);
    }
    const previous = this.#local;
    this.#local = mark.local;
    return previous === undefined || mark.local === undefined ? 0 : (mark.local - previous - 1) >>> 0;
  }
}

/** Where a session check runs, for its message, and what the run kept when it fails. */
export interface SessionCheckPoint {
  /** The point of the run, e.g. `before migrations/x.up.sql`. */
  readonly where?: string;
  /** What was kept. Default is "Nothing was migrated." */
  readonly outcome?: string;
}

/** Fails with {@link UnstableSessionError} unless the next statement on `client` runs in backend `pid`. */
export async function expectBackend(client: ClientBase, pid: number, point: SessionCheckPoint = {}): Promise<void> {
  const now = await backendPid(client);
  if (now !== pid) {
    const where = point.where === undefined ? '' : `, ${point.where}`;
    throw new UnstableSessionError(`two statements of this command ran in different server sessions (backend pid ${pid}, then ${now}${where})`, point.outcome);
  }
}

/** One round; false when the probe could not get a backend of its own in time (a full pool) or failed, so further rounds cannot probe. */
async function checkRound(session: CheckedSession, probe: ClientBase): Promise<boolean> {
  const nonce = randomUUID();
  await session.next(nonce);
  const begun = probe.query('BEGIN').then(() => true, () => false);
  if (!(await settlesWithin(begun, DEFAULT_PROBE_HOLD_MS)) || !(await begun)) return false;
  let pinned = true;
  try {
    await inspectFromProbe(probe, session.pid, nonce);
    // Our next statement, while the probe's transaction pins whatever backend
    // it got. In a pool with no free backend this statement waits for the
    // probe: the probe lets go after a while, so the check never deadlocks.
    const during = session.next();
    await settlesWithin(during, DEFAULT_PROBE_HOLD_MS);
    await probe.query('COMMIT');
    pinned = false;
    await during;
  } finally {
    if (pinned) await probe.query('ROLLBACK').catch(() => undefined);
  }
  return true;
}

/** Seen from the probe's own backend: the probe was not handed `pid`, and `pid` is idle after this command's last statement. */
async function inspectFromProbe(probe: ClientBase, pid: number, nonce: string): Promise<void> {
  // Read once per transaction: pg_stat_activity is a snapshot taken at first use in a transaction.
  const { rows } = await probe.query<{ probe: number; state: string | null; query: string | null }>(
    `SELECT pg_catalog.pg_backend_pid() AS probe, a.state, a.query
       FROM (SELECT) AS one LEFT JOIN pg_catalog.pg_stat_get_activity($1::pg_catalog.int4) AS a ON true`,
    [pid],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('the session check returned no row');
  if (row.probe === pid) {
    throw new UnstableSessionError(
      `another connection was handed this command's server session (backend pid ${pid}) as soon as a statement ended: the connection goes through a pooler that reassigns sessions between transactions`,
    );
  }
  // NULL: another role's session this role may not inspect; 'disabled': track_activities is off.
  if (row.state === null || row.state === 'disabled') return;
  if (row.state !== 'idle' || !(row.query ?? '').includes(nonce)) {
    throw new UnstableSessionError(
      `this command's server session (backend pid ${pid}) ran another client's statement while this command was idle (${row.state}): ` +
        'the connection goes through a pooler that reassigns sessions between transactions',
    );
  }
}

/**
 * Opens a probe session, or gives up after `ms`: through a full session pool
 * (PgBouncer pool_mode=session, every server connection taken, this
 * command's included) the probe's first statement waits until this command
 * disconnects. A probe that arrives later is closed at once.
 */
async function openWithin(openProbe: () => Promise<ProbeSession>, ms: number): Promise<ProbeSession | undefined> {
  const opening = openProbe().catch(() => undefined);
  if (await settlesWithin(opening, ms)) return await opening;
  void opening.then((late) => late?.close());
  return undefined;
}

/** Whether `promise` settles within `ms`; it keeps running either way. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A statement's backend pid and the local number of its transaction (undefined if pg_locks does not show it). */
interface SessionMark {
  readonly pid: number;
  readonly local: number | undefined;
}

/** `tag` goes into the statement's text, where `pg_stat_activity.query` shows it. */
async function sessionMark(client: ClientBase, tag?: string): Promise<SessionMark> {
  const comment = tag === undefined ? '' : `/* authdb session check ${tag} */ `;
  const { rows } = await client.query<{ pid: number; vxid: string | null }>(
    `${comment}SELECT pg_catalog.pg_backend_pid() AS pid,
            (SELECT l.virtualxid FROM pg_catalog.pg_locks AS l
              WHERE l.locktype = 'virtualxid'::text AND l.pid = pg_catalog.pg_backend_pid() AND l.granted LIMIT 1) AS vxid`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error('pg_backend_pid() returned no row');
  const local = Number(row.vxid?.split('/')[1] ?? Number.NaN);
  return { pid: row.pid, local: Number.isSafeInteger(local) ? local : undefined };
}

async function backendPid(client: ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_catalog.pg_backend_pid() AS pid');
  const pid = rows[0]?.pid;
  if (pid === undefined) throw new Error('pg_backend_pid() returned no row');
  return pid;
}
