import type { ClientBase } from 'pg';

/**
 * How often the server checks, while a statement runs, that the client is
 * still connected (`client_connection_check_interval`, PostgreSQL 14+).
 * Default is 1 s.
 */
export const DEFAULT_CLIENT_CHECK_INTERVAL_MS = 1_000;
/** Server-side TCP keepalives: idle seconds, seconds between probes, probes. Default is 5, 2, 3. */
export const DEFAULT_SERVER_KEEPALIVES = { idle: 5, interval: 2, count: 3 } as const;
/**
 * How long the server lets data it sent stay unacknowledged before it drops
 * the connection (`tcp_user_timeout`). Default is 10 s.
 */
export const DEFAULT_TCP_USER_TIMEOUT_MS = 10_000;
/**
 * How long an authdb session may sit idle inside a transaction before the
 * server ends it (`idle_in_transaction_session_timeout`). authdb never waits
 * inside a transaction (between two statements of a file it only sends the
 * next one), so this is a client that is gone or cut off. Default is 30 s.
 */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Makes the server notice a client that died (kill -9, a pod evicted, a
 * machine gone) or a network path that went dead, so the statement is
 * cancelled, its transaction rolls back and the session's locks (the
 * migration lock, `ACCESS EXCLUSIVE` on a table) are released within
 * seconds instead of when the kernel gives up on the connection (minutes):
 *
 * - a closed socket, while a statement runs: `client_connection_check_interval` (PostgreSQL 14+; about 1 s);
 * - a peer that vanished with nothing in flight: the TCP keepalives (5 + 2 × 3 = 11 s);
 * - a peer that stopped acknowledging what the server sent (a black hole,
 *   packets dropped): `tcp_user_timeout` (10 s after the unacknowledged data);
 * - a path that stopped forwarding but keeps its sockets open (a stuck proxy
 *   or pooler, which acknowledges everything): `idle_in_transaction_session_timeout`
 *   (30 s after the running statement ended).
 *
 * Session settings, in one round trip; TCP settings are ignored on Unix-domain sockets.
 */
export async function guardSession(client: ClientBase): Promise<void> {
  await client.query(
    `SELECT pg_catalog.set_config('tcp_keepalives_idle', $1::text, false),
            pg_catalog.set_config('tcp_keepalives_interval', $2::text, false),
            pg_catalog.set_config('tcp_keepalives_count', $3::text, false),
            pg_catalog.set_config('tcp_user_timeout', $4::text, false),
            pg_catalog.set_config('idle_in_transaction_session_timeout', $5::text, false),
            CASE WHEN pg_catalog.current_setting('server_version_num')::int >= 140000
                 THEN pg_catalog.set_config('client_connection_check_interval', $6::text, false) END`,
    [
      String(DEFAULT_SERVER_KEEPALIVES.idle),
      String(DEFAULT_SERVER_KEEPALIVES.interval),
      String(DEFAULT_SERVER_KEEPALIVES.count),
      `${DEFAULT_TCP_USER_TIMEOUT_MS}ms`,
      `${DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS}ms`,
      `${DEFAULT_CLIENT_CHECK_INTERVAL_MS}ms`,
    ],
  );
}
