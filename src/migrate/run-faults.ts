import { MigrationError, MigrationSqlError } from './errors.js';

/** The migration file running when a fault struck. */
export interface RunningFile {
  readonly name: string;
  readonly direction: 'up' | 'down';
  /** The up or down file being run. */
  readonly path: string;
  /** Whether it runs in a transaction (no `-- authdb:no-transaction` line). */
  readonly transaction: boolean;
}

/** What the run had done when it stopped. */
export interface RunProgress {
  /** The file that was running, if any. */
  readonly running: RunningFile | undefined;
  /** How many migrations of this run completed (and were kept) before it. */
  readonly completed: number;
  readonly direction: 'up' | 'down';
}

/**
 * An interrupt seen between two statements of a file: the executor stopped
 * before `line` (the first statement it did not run). A cancel request that
 * reached the server while no statement ran cancels nothing, so this check
 * is what makes a signal stop a file of many statements every time.
 */
export class StoppedBetweenStatements extends Error {
  constructor(
    readonly path: string,
    /** Undefined: after the file's last statement, before its transaction committed. */
    readonly line?: number,
  ) {
    super(line === undefined ? `stopped before ${path} committed` : `stopped before the statement at ${path}:${line}`);
    this.name = 'StoppedBetweenStatements';
  }
}

/**
 * The connection broke while a statement of a no-transaction file ran: the
 * statements before it completed and stay. When the server ended the session
 * (it sent an error: `serverEnded`) the statement did not complete; when the
 * socket just closed, nobody can say. `leftover` says what a `CREATE INDEX
 * CONCURRENTLY` there may have left, since the server cannot be asked.
 */
export class LostDuringStatement extends Error {
  readonly serverEnded: boolean;

  constructor(
    readonly path: string,
    readonly line: number,
    readonly leftover: string | undefined,
    cause: unknown,
  ) {
    super(`the connection was lost during the statement at ${path}:${line}`, { cause });
    this.name = 'LostDuringStatement';
    this.serverEnded = cause instanceof MigrationSqlError;
  }
}

/** SIGINT or SIGTERM stopped a run: the running statement was cancelled, or the run stopped between two statements. */
export class MigrationInterruptedError extends MigrationError {
  /** 130 for SIGINT, 143 for SIGTERM, as a shell reports a process killed by it. */
  readonly exitCode: number;

  constructor(signal: NodeJS.Signals, progress: RunProgress, cause: unknown, lockReleased: boolean) {
    super(
      'AUTHDB_INTERRUPTED',
      `interrupted by ${signal}${progress.running ? ` while running ${describeFile(progress.running)}` : ' before the next migration started'}: ` +
        `${progress.running ? describeKept(progress.running, cause, interruptedWhat(cause)) : 'nothing was running'}; ` +
        `${describeCompleted(progress)}; ${lockReleased ? 'the migration lock was released' : 'the migration lock goes with the session'}`,
      { cause },
    );
    this.exitCode = signal === 'SIGTERM' ? 143 : 130;
  }
}

/** The connection broke while a migration ran (server shut down, backend terminated, network). */
export class ConnectionLostError extends MigrationError {
  constructor(progress: RunProgress, cause: unknown) {
    const server = serverError(cause);
    super(
      'AUTHDB_CONNECTION_LOST',
      `the connection to the server was lost${progress.running ? ` while running ${describeFile(progress.running)}` : ''}: ${server}; ` +
        (progress.running ? `${describeKept(progress.running, cause, 'the server ended the session')}; ` : '') +
        `${describeCompleted(progress)}; rerun the command once the server is reachable`,
      { cause },
    );
  }
}

/** SQLSTATEs of a session the server ended: admin shutdown, crash shutdown, cannot connect now, and class 08. */
const CONNECTION_LOST_STATE = /^(57P0[1-3]|08...)$/;
/** pg's own errors for a socket that closed or a client that is no longer usable. */
const CONNECTION_LOST_MESSAGE = /Connection terminated|not queryable|ECONNRESET|EPIPE|read ETIMEDOUT/;

/** Whether `error` says the connection to the server is gone. */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof LostDuringStatement) return true;
  const cause = error instanceof MigrationSqlError ? error.cause : error;
  if (!(cause instanceof Error)) return false;
  const { code, severity } = cause as { code?: unknown; severity?: unknown };
  // An error the server sent ends the session only as FATAL or PANIC, whatever its code or text: an ERROR
  // leaves it usable (08P01 for a Bind without the `$1` a statement asks for; a RAISE with ERRCODE 57P03).
  if (typeof severity === 'string') return severity === 'FATAL' || severity === 'PANIC';
  if (typeof code === 'string' && CONNECTION_LOST_STATE.test(code)) return true;
  return CONNECTION_LOST_MESSAGE.test(cause.message);
}

/** What the interrupt did to the statement: cancelled it, or stopped the file before its next one. */
function interruptedWhat(cause: unknown): string {
  if (!(cause instanceof StoppedBetweenStatements)) return 'the running statement was cancelled';
  return cause.line === undefined ? 'the run stopped after its last statement, before committing' : `the run stopped before the statement at line ${cause.line}`;
}

function describeFile(file: RunningFile): string {
  return `${file.name} (${file.direction}: ${file.path})`;
}

/** What was kept of `file`: nothing in a transaction; for a no-transaction file, the statements before the failing line. */
function describeKept(file: RunningFile, cause: unknown, what: string): string {
  if (file.transaction) return `${what} and its transaction rolled back: nothing of ${file.name} was kept, and it is not recorded as ${file.direction === 'up' ? 'applied' : 'reverted'}`;
  const line = cause instanceof MigrationSqlError ? cause.location.line : cause instanceof LostDuringStatement || cause instanceof StoppedBetweenStatements ? cause.line : undefined;
  const running =
    line === undefined
      ? 'the statements that completed before it were kept'
      : cause instanceof LostDuringStatement && !cause.serverEnded
        ? `the statements before line ${line} were kept; the one at line ${line} may have completed, failed or still be running on the server`
        : `the statements before line ${line} were kept and the one at line ${line} was not`;
  const leftover = cause instanceof LostDuringStatement && cause.leftover !== undefined ? `; ${cause.leftover}` : '';
  return (
    `${what}; ${file.path} runs outside a transaction (-- authdb:no-transaction), so ${running}, ` +
    `and ${file.name} is not recorded as ${file.direction === 'up' ? 'applied' : 'reverted'}: check what it left (an INVALID index from CREATE INDEX CONCURRENTLY must be dropped) before rerunning${leftover}`
  );
}

function describeCompleted(progress: RunProgress): string {
  const verb = progress.direction === 'up' ? 'applied' : 'reverted';
  return progress.completed === 0 ? `no migration was ${verb} by this run` : `the ${progress.completed} migration(s) ${verb} before it were kept`;
}

/** The server's SQLSTATE and message (or pg's, when the socket just closed). */
function serverError(error: unknown): string {
  let cause = error;
  while (cause instanceof MigrationSqlError || cause instanceof LostDuringStatement) cause = cause.cause;
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `SQLSTATE ${code}: ${cause.message}` : cause.message;
}
