import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';
import { isStatementTimeout, statementTimeoutSource } from './failure-report.js';
import { isDatabaseError } from './sql-error.js';

/** statement_timeout cancelled one of authdb's own statements (a check, the lock, the history), before any migration ran. */
export class EngineStatementTimeoutError extends MigrationError {
  constructor(purpose: string, source: string | undefined, options?: ErrorOptions) {
    super(
      'AUTHDB_STATEMENT_TIMEOUT',
      `statement_timeout cancelled one of authdb's own statements, while ${purpose} (SQLSTATE 57014: canceling statement due to statement timeout)` +
        `${source === undefined ? '' : `; ${source}`}. ` +
        "authdb's checks usually take milliseconds: a statement that runs this long waits for a lock another session holds (see pg_locks and pg_stat_activity), " +
        "or the limit is very low. Lift it for authdb's runs only: PGOPTIONS='-c statement_timeout=0' (or a larger value) in the environment of authdb, " +
        'or ALTER ROLE <the role that migrates> SET statement_timeout = 0. Nothing was migrated.',
      options,
    );
  }
}

/**
 * `error` as {@link EngineStatementTimeoutError} when it is the server's
 * statement timeout and `purpose` says which of authdb's statements it hit;
 * otherwise `error` itself.
 */
export async function explainEngineTimeout(client: ClientBase, error: unknown, purpose: string | undefined): Promise<unknown> {
  if (purpose === undefined || error instanceof MigrationError || !isDatabaseError(error)) return error;
  if (error.code === undefined || !isStatementTimeout({ sqlState: error.code, serverMessage: error.message })) return error;
  const source = await statementTimeoutSource(client).catch(() => undefined);
  return new EngineStatementTimeoutError(purpose, source, { cause: error });
}
