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
      output.err(`authdb: the cancel request failed: ${(error as Error).message}`);
    });
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
