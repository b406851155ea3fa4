import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database-types.js';

/**
 * Where `createAuthDb` sends its queries:
 *
 * - a connection string: authdb opens a `pg.Pool` of its own, closed by `destroy()`;
 * - a `pg.Pool`: used as is, never ended by authdb;
 * - a `Kysely` instance (or a `Transaction`) of any database type: used as is
 *   (its plugins bypassed, so e.g. `CamelCasePlugin` does not rename
 *   authdb's columns), never destroyed by authdb.
 */
// Kysely<any>, as Kysely's own Migrator takes it: Kysely<YourDb> is not
// assignable to Kysely<unknown>, and only `any` accepts every database type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AuthDbConnection = string | pg.Pool | Kysely<any>;

/** A Kysely instance over the authdb tables, and how to release what was opened for it. */
export interface OpenedConnection {
  readonly db: Kysely<Database>;
  /** Ends the pool when authdb opened it; otherwise does nothing. */
  readonly close: () => Promise<void>;
}

/** Wraps a connection in a plugin-free `Kysely<Database>` without connecting yet. */
export function openConnection(connection: AuthDbConnection): OpenedConnection {
  if (typeof connection === 'string') {
    const pool = new pg.Pool({ connectionString: connection });
    // An idle client whose connection drops emits 'error' on the pool; the
    // pool discards it and connects anew on demand, so nothing is lost. A
    // listener must exist, or Node treats the event as an uncaught error.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, close: () => db.destroy() };
  }
  if (isKysely(connection)) {
    // Typed for the caller's tables; viewed here as the authdb tables.
    const db = (connection as Kysely<unknown>).withoutPlugins() as Kysely<Database>;
    return { db, close: () => Promise.resolve() };
  }
  // Not `db.destroy()`: Kysely's Postgres driver would end the caller's pool.
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: connection }) }), close: () => Promise.resolve() };
}

/** Duck-typed, so a Kysely from another copy of the package is recognised too. */
function isKysely(connection: Exclude<AuthDbConnection, string>): connection is Exclude<AuthDbConnection, string | pg.Pool> {
  return 'withoutPlugins' in connection && 'executeQuery' in connection;
}
