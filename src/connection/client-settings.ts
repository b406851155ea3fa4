import type pg from 'pg';

/** How long a connection attempt may take (TCP, TLS, start-up, authentication). Default is 10 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Idle time before the client sends TCP keepalive probes. Default is 10 s. */
export const DEFAULT_KEEPALIVE_IDLE_MS = 10_000;

/**
 * Client-side settings every authdb connection gets: a bounded connect
 * (pg's default is to wait forever on a server that accepts TCP and never
 * answers) and TCP keepalives (a vanished server is noticed instead of
 * awaited forever).
 */
export function clientSafetyConfig(connectTimeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS): pg.ClientConfig {
  return {
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: DEFAULT_KEEPALIVE_IDLE_MS,
  };
}

/**
 * `PGCONNECT_TIMEOUT` as libpq reads it: whole seconds; zero or negative
 * means wait forever (returned as 0); values below 2 count as 2 s.
 * `undefined` when unset; throws a message naming the variable when invalid.
 */
export function connectTimeoutFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.PGCONNECT_TIMEOUT;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\s*-?\d+\s*$/.test(raw)) throw new Error(`PGCONNECT_TIMEOUT: "${raw}" is not a whole number of seconds`);
  const seconds = Number(raw);
  if (seconds <= 0) return 0;
  return Math.max(seconds, 2) * 1000;
}
