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
 * Makes the server notice a client that died (kill -9, a pod evicted, a
 * machine gone) while one of its statements runs, so the statement is
 * cancelled, its transaction rolls back and the session's locks (the
 * migration lock, `ACCESS EXCLUSIVE` on a table) are released within
 * seconds instead of when the statement ends. A closed socket is seen by
 * `client_connection_check_interval`; a peer that vanished without closing
 * it by the TCP keepalives (ignored on Unix-domain sockets).
 * Session settings; on a server before 14 the check interval is skipped.
 */
export async function guardSession(client: ClientBase): Promise<void> {
  await client.query(
    `SELECT pg_catalog.set_config('client_connection_check_interval', $1::text, false)
      WHERE pg_catalog.current_setting('server_version_num')::int >= 140000`,
    [`${DEFAULT_CLIENT_CHECK_INTERVAL_MS}ms`],
  );
  await client.query(
    `SELECT pg_catalog.set_config('tcp_keepalives_idle', $1::text, false),
            pg_catalog.set_config('tcp_keepalives_interval', $2::text, false),
            pg_catalog.set_config('tcp_keepalives_count', $3::text, false)`,
    [String(DEFAULT_SERVER_KEEPALIVES.idle), String(DEFAULT_SERVER_KEEPALIVES.interval), String(DEFAULT_SERVER_KEEPALIVES.count)],
  );
}
