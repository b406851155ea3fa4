import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';

/** The target is a hot standby (in recovery): nothing there can be written. */
export class StandbyError extends MigrationError {
  constructor(command: string) {
    super(
      'AUTHDB_STANDBY',
      `the server is a standby (pg_is_in_recovery() is true): it replays a primary's changes and accepts no writes, so ${command} cannot run there. ` +
        'Point --database-url (or DATABASE_URL) at the primary: with libpq-style host lists add target_session_attrs=read-write, ' +
        'or use the primary\'s own address rather than a read-only or load-balanced one. Nothing was migrated and no lock was taken.',
    );
  }
}

/**
 * Refuses a server in recovery before the migration lock: on a hot standby
 * the lock could be taken (advisory locks work there) and the run would get
 * as far as a file's first statement, failing with 25006
 * read_only_sql_transaction as if the file were wrong.
 */
export async function assertPrimary(client: ClientBase, command: string): Promise<void> {
  const { rows } = await client.query<{ standby: boolean }>('SELECT pg_catalog.pg_is_in_recovery() AS standby');
  if (rows[0]?.standby === true) throw new StandbyError(command);
}
