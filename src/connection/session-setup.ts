import type { ClientBase } from 'pg';
import { guardSession } from './session-guards.js';

/**
 * `search_path` of every authdb session outside a migration file: the system
 * catalog, then the session's own temporary schema. No schema another role
 * can create objects in is on it, so no planted function, operator or
 * better-matching overload can take the place of a built-in in authdb's own
 * queries. (Functions and operators are never looked up in `pg_temp`.)
 */
export const SESSION_SEARCH_PATH = 'pg_catalog, pg_temp';

/** The statement that gives a session {@link SESSION_SEARCH_PATH}; also restores it after a migration file. */
export const SET_SESSION_SEARCH_PATH = `SET search_path = ${SESSION_SEARCH_PATH}`;

/**
 * Prepares a freshly connected authdb session: pins {@link SESSION_SEARCH_PATH}
 * before any other statement, whatever the server, database or role default
 * (`ALTER ROLE … SET search_path`) says, then lets the server notice a dead
 * client ({@link guardSession}).
 */
export async function setUpSession(client: ClientBase): Promise<void> {
  await client.query(SET_SESSION_SEARCH_PATH);
  await guardSession(client);
}
