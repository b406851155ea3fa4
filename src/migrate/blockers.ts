import type { ClientBase } from 'pg';
import { MigrationSqlError } from './errors.js';
import type { ProbeSession } from './session-stability.js';

/** A session that holds a lock the migration waits for, as `pg_stat_activity` shows it. */
export interface BlockingSession {
  readonly pid: number;
  readonly applicationName: string;
  readonly user: string | null;
  readonly state: string | null;
  /** How long its transaction has been open, in seconds (null when it has none). */
  readonly transactionAgeS: number | null;
  /** The start of its current or last query. */
  readonly query: string;
}

/** How much of a blocker's query is shown. Default is 120 characters. */
export const DEFAULT_BLOCKER_QUERY_CHARS = 120;

/**
 * Watches, from a second session, whether the migration's backend waits for
 * a lock, and remembers who blocks it: when the statement then fails with
 * `lock_timeout` (55P03), the blockers are gone from `pg_blocking_pids`, so
 * they must be seen while it waits. The probe session is opened only when a
 * file runs longer than one polling period.
 */
export class BlockerWatch {
  readonly #openProbe: () => Promise<ProbeSession>;
  readonly #periodMs: number;
  #probe: Promise<ProbeSession> | undefined;
  /** The probe, once it has connected. */
  #opened: ProbeSession | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;
  #seen: readonly BlockingSession[] = [];

  /** `periodMs`: how often to look; a quarter of `lock_timeout`, at most 1 s, is enough to see every wait that times out. */
  constructor(openProbe: () => Promise<ProbeSession>, periodMs: number) {
    this.#openProbe = openProbe;
    this.#periodMs = Math.max(20, Math.min(1_000, periodMs));
  }

  /** Starts watching backend `pid` (the migration's session). */
  start(pid: number): void {
    this.stop();
    this.#seen = [];
    this.#timer = setInterval(() => void this.#poll(pid), this.#periodMs);
    this.#timer.unref();
  }

  /** Stops watching; the blockers seen so far stay available. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The blockers of the latest wait seen. */
  get seen(): readonly BlockingSession[] {
    return this.#seen;
  }

  /** Closes the probe session, if one was opened. */
  async close(): Promise<void> {
    this.stop();
    const probe = this.#probe;
    const opened = this.#opened;
    this.#probe = undefined;
    this.#opened = undefined;
    if (opened) await opened.close();
    // Still waiting for a backend (a full session pool hands it one only when
    // this command disconnects): closed when it arrives, never waited for.
    else if (probe) void probe.then((p) => p.close(), () => undefined);
  }

  async #poll(pid: number): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      this.#probe ??= this.#openProbe().then((p) => (this.#opened = p));
      const blockers = await readBlockers((await this.#probe).client, pid);
      if (blockers.length > 0 && this.#timer !== undefined) this.#seen = blockers;
    } catch {
      // Diagnostics only: a failed look leaves the migration's own error as it is.
    } finally {
      this.#polling = false;
    }
  }
}

/** Sessions that block backend `pid`, with what a DBA needs to decide what to do about them. */
export async function readBlockers(client: ClientBase, pid: number): Promise<BlockingSession[]> {
  // Numbers as text: float8's output depends on the session's extra_float_digits.
  const { rows } = await client.query<Omit<BlockingSession, 'transactionAgeS'> & { transactionAgeS: string | null }>(
    `SELECT a.pid,
            coalesce(a.application_name, '') AS "applicationName",
            a.usename::text AS "user",
            a.state,
            round(extract(epoch FROM pg_catalog.clock_timestamp() - a.xact_start)::numeric, 1)::text AS "transactionAgeS",
            pg_catalog.left(coalesce(a.query, ''), $2::int4) AS query
       FROM pg_catalog.pg_stat_activity AS a
      WHERE a.pid = ANY (pg_catalog.pg_blocking_pids($1::int4))
      ORDER BY a.xact_start NULLS LAST, a.pid`,
    [pid, DEFAULT_BLOCKER_QUERY_CHARS],
  );
  return rows.map((row) => ({ ...row, transactionAgeS: row.transactionAgeS === null ? null : Number(row.transactionAgeS) }));
}

/**
 * A lock-timeout failure (55P03) with the sessions that blocked it added:
 * pid, application, user, state, transaction age and the start of its
 * query, and what to do. Other errors are returned unchanged.
 */
export function withBlockers(error: unknown, blockers: readonly BlockingSession[]): unknown {
  if (!(error instanceof MigrationSqlError) || error.location.sqlState !== '55P03' || blockers.length === 0) return error;
  const lines = blockers.map(describeBlocker);
  const { location } = error;
  return new MigrationSqlError(
    {
      ...location,
      detail: [location.detail, `blocked by ${blockers.length === 1 ? 'this session' : 'these sessions'}:`, ...lines].filter(Boolean).join('\n'),
      hint: [
        location.hint,
        `wait for ${blockers.length === 1 ? 'it' : 'them'} to finish and rerun, end ${blockers.length === 1 ? 'it' : 'them'} ` +
          `(${blockers.map((b) => `SELECT pg_terminate_backend(${b.pid});`).join(' ')}), or raise --ddl-lock-timeout`,
      ]
        .filter(Boolean)
        .join('\n'),
    },
    { cause: error.cause },
  );
}

function describeBlocker(b: BlockingSession): string {
  const app = b.applicationName === '' ? 'no application_name' : `application "${b.applicationName}"`;
  const age = b.transactionAgeS === null ? 'no open transaction' : `transaction open for ${b.transactionAgeS} s`;
  const query = b.query.replace(/\s+/g, ' ').trim();
  return `  pid ${b.pid}, ${app}, user ${b.user ?? '?'}, ${b.state ?? 'unknown state'}, ${age}, query: ${query === '' ? '(none)' : query}`;
}
