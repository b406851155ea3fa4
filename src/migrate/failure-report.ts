import pg, { type ClientBase } from 'pg';
import type { SqlErrorLocation } from './errors.js';
import type { MigrationScript, ScriptStatement } from './migration-script.js';

/** SQLSTATE of `canceling statement due to statement timeout` (also of a user's cancel request). */
const QUERY_CANCELED = '57014';

/** Whether `error` is the server's `canceling statement due to statement timeout`. */
export function isStatementTimeout(error: Pick<SqlErrorLocation, 'sqlState' | 'serverMessage'>): boolean {
  return error.sqlState === QUERY_CANCELED && error.serverMessage.includes('statement timeout');
}

/**
 * Where a `statement_timeout` that cancelled a migration statement comes
 * from, and how to lift it for migrations only. Runs after the migration's
 * transaction ended (an aborted transaction answers no query).
 */
export async function statementTimeoutHint(
  client: ClientBase,
  error: Pick<SqlErrorLocation, 'sqlState' | 'serverMessage'>,
  transaction: boolean,
): Promise<string | undefined> {
  if (!isStatementTimeout(error)) return undefined;
  const source = await statementTimeoutSource(client);
  if (source === undefined) return undefined;
  return (
    `${source}. ` +
    `Long migration statements need more: lift it for the migration run only with PGOPTIONS='-c statement_timeout=0' ` +
    `(or a larger value) in the environment of authdb, or put "${transaction ? 'SET LOCAL' : 'SET'} statement_timeout = 0;" at the top of this file`
  );
}

/** "statement_timeout is 1s for this session: it is set on the role …", from pg_settings; undefined when the session cannot answer. */
export async function statementTimeoutSource(client: ClientBase): Promise<string | undefined> {
  const { rows } = await client.query<{ setting: string; source: string; role: string; database: string }>(
    `SELECT current_setting('statement_timeout') AS setting, s.source, current_user AS role, current_database() AS database
       FROM pg_catalog.pg_settings s WHERE s.name = 'statement_timeout'`,
  );
  const row = rows[0];
  if (!row) return undefined;
  const role = client.escapeIdentifier(row.role);
  const database = client.escapeIdentifier(row.database);
  const origin: Record<string, string> = {
    user: `it is set on the role ${role} (ALTER ROLE ${role} SET statement_timeout = '${row.setting}')`,
    database: `it is set on the database ${database} (ALTER DATABASE ${database} SET statement_timeout = '${row.setting}')`,
    'database user': `it is set on the role ${role} in database ${database} (ALTER ROLE ${role} IN DATABASE ${database} SET statement_timeout = '${row.setting}')`,
    'configuration file': 'it is set in the server configuration (postgresql.conf or postgresql.auto.conf)',
    client: 'it was set by the connection (the PGOPTIONS variable, or "options" in the connection URL)',
    session: 'it was set in this session by a SET statement',
  };
  return `statement_timeout is ${row.setting} for this session: ${origin[row.source] ?? `its source is "${row.source}"`}`;
}

/**
 * For a file run outside a transaction: which statements completed (and were
 * kept), which failed, which did not run, and what the history says.
 */
export function halfwayOutcome(script: MigrationScript, failed: ScriptStatement, direction: 'up' | 'down' = 'up'): string {
  const done = script.statements.slice(0, failed.index);
  const notRun = script.statements.slice(failed.index + 1);
  const lines = (list: readonly ScriptStatement[]): string =>
    list.length === 0 ? '' : list.length === 1 ? ` (line ${list[0]?.line})` : ` (lines ${list[0]?.line}–${list.at(-1)?.line})`;
  return (
    `This file runs outside a transaction (-- authdb:no-transaction), so what completed stays: ` +
    `${done.length} of its ${script.statements.length} statements completed and were kept${lines(done)}; ` +
    `the statement at line ${failed.line} failed; ${notRun.length} after it did not run${lines(notRun)}. ` +
    historyAfterHalfway(direction, done.length)
  );
}

/** What the history says after a no-transaction file stopped partway, and how to go on. */
function historyAfterHalfway(direction: 'up' | 'down', completed: number): string {
  if (direction === 'up') {
    return 'The migration was not recorded as applied: make the file safe to rerun from the start (IF NOT EXISTS), or undo what completed, then rerun.';
  }
  return (
    'The migration stays recorded as applied (migrate status lists it as applied, and up sees nothing to do)' +
    (completed === 0
      ? ', and its schema is as the up left it: nothing of the down completed. Fix the failing statement and rerun migrate down.'
      : `, but its schema is only partly reverted: what the ${completed} completed statement(s) dropped or changed is gone. ` +
        'Make the down file safe to rerun from the start (DROP … IF EXISTS) and rerun migrate down, or restore what they removed (the up file creates it) to be back at applied.')
  );
}

/** What a no-transaction file kept when its session moved after the statement `last` (which completed, maybe in another session). */
export function movedSessionOutcome(script: MigrationScript, last: ScriptStatement, direction: 'up' | 'down' = 'up'): string {
  const notRun = script.statements.length - last.index - 1;
  return (
    `This file runs outside a transaction (-- authdb:no-transaction), so what completed stays: ` +
    `its statements up to line ${last.line} completed, that last one perhaps in another server session (with that session's search_path); ` +
    `${notRun} after it did not run. ` +
    (direction === 'up'
      ? 'The migration was not recorded as applied: check what the statements created and where, undo it, then rerun without the pooler.'
      : 'The migration stays recorded as applied, its schema partly reverted: check what the statements dropped and where, then rerun migrate down without the pooler.')
  );
}

/**
 * The INVALID index a failed `CREATE INDEX CONCURRENTLY` leaves behind (it
 * makes every rerun fail with 42P07), and the statement that drops it.
 * authdb names it rather than dropping it: the index may be another session's
 * build in progress, and `DROP INDEX CONCURRENTLY` can wait a long time for
 * old transactions.
 */
export async function leftoverIndexReport(client: ClientBase, schema: string, statement: ScriptStatement): Promise<string | undefined> {
  const index = statement.concurrentIndex;
  if (!index) return undefined;
  const { rows } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
      WHERE NOT i.indisvalid AND n.nspname = $1 AND t.relname = $2 AND ($3::text IS NULL OR c.relname = $3)
      ORDER BY c.oid DESC`,
    [index.schema ?? schema, index.table, index.name ?? null],
  );
  if (rows.length === 0) return undefined;
  const names = rows.map((r) => `${client.escapeIdentifier(r.schema)}.${client.escapeIdentifier(r.name)}`);
  return (
    `CREATE INDEX CONCURRENTLY left the INVALID index ${names.join(', ')} behind (it is not used by queries, but is still maintained, ` +
    `and a rerun fails with "already exists"); drop it before rerunning:\n` +
    names.map((n) => `  DROP INDEX CONCURRENTLY IF EXISTS ${n};`).join('\n')
  );
}

/**
 * What a `CREATE INDEX CONCURRENTLY` may have left when the connection broke
 * during it, said without asking the server (it cannot be reached): the
 * query that finds the INVALID index and the statement that drops it.
 */
export function possibleLeftoverIndex(schema: string, statement: ScriptStatement): string | undefined {
  const index = statement.concurrentIndex;
  if (!index) return undefined;
  const qualified = (name: string): string => `${pg.escapeIdentifier(index.schema ?? schema)}.${pg.escapeIdentifier(name)}`;
  const drop = index.name === undefined ? 'DROP INDEX CONCURRENTLY IF EXISTS <that index>' : `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(index.name)}`;
  return (
    `the statement at line ${statement.line} is CREATE INDEX CONCURRENTLY, which leaves an INVALID index when it does not finish: once the server is reachable, ` +
    `find it with SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid AND indrelid = ${pg.escapeLiteral(qualified(index.table))}::regclass; and drop it with ${drop};`
  );
}

