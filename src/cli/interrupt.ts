import type pg from 'pg';
import { sendCancelRequest } from '../connection/cancel-request.js';
import type { Migrator } from '../migrate/migrator.js';
import type { Output } from './output.js';

/** Exit code of a process killed by `signal`, as shells report it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/**
 * Runs `work` (a migration run) so that SIGINT or SIGTERM stops it cleanly:
 * the first signal stops the migrator at its next boundary and sends the
 * server a cancel request for the running statement, whose transaction then
 * rolls back; the run rejects with a `MigrationInterruptedError` that says
 * what was kept, and the command exits 130/143 after releasing the lock.
 * A second signal exits at once (the server rolls back when it notices the
 * closed connection, within seconds: see `guardSession`).
 */
export async function withInterruptHandling<T>(migrator: Migrator, client: pg.Client, output: Output, work: () => Promise<T>): Promise<T> {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      output.err(`authdb: ${signal} again: exiting at once; the server rolls back the open transaction when it sees the connection closed`);
      process.exit(signalExitCode(signal));
    }
    received = signal;
    const running = migrator.interrupt(signal);
    output.err(
      `authdb: ${signal} received: ${running ? `cancelling the running statement of ${running.name}` : 'stopping before the next migration'}; ` +
        `send ${signal} again to exit at once`,
    );
    sendCancelRequest(client).catch((error: unknown) => {
      output.err(cancelNotAcknowledged(client, signal, error));
    });
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/**
 * What is known when the server did not take the cancel request: nothing
 * about the statement. The network path may be dead, so the session may
 * still run and hold its locks until the server ends it; the queries that
 * show and end it name its backend.
 */
function cancelNotAcknowledged(client: pg.Client, signal: NodeJS.Signals, error: unknown): string {
  const pid = (client as unknown as { processID: number | null }).processID;
  const session = pid === null ? 'the session' : `the session (backend pid ${pid})`;
  return (
    `authdb: the cancel request was not acknowledged (${(error as Error).message}): the network path to the server may be dead, ` +
    `so nothing is known about the running statement; ${session} may still hold the migration lock and its table locks ` +
    'until the server ends it (authdb sessions: within about 30 s of the statement\'s end, or 10–15 s after the path stopped acknowledging data; see "Faults"). ' +
    (pid === null
      ? ''
      : `From a session that reaches the server: SELECT pid, state, xact_start, query FROM pg_catalog.pg_stat_activity WHERE pid = ${pid}; ` +
        `end it with SELECT pg_catalog.pg_terminate_backend(${pid}). `) +
    `Send ${signal} again to exit now.`
  );
}
