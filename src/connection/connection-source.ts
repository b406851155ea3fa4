import { DEFAULT_EMBEDDED_DIR } from '../embedded/default-dir.js';

/** Where a command's database comes from, resolved once from flags and environment. */
export type ConnectionSource = (
  | { readonly kind: 'url'; readonly url: string; readonly origin: '--database-url' | 'DATABASE_URL' | '--scratch-url' }
  | { readonly kind: 'pg-env' }
  | { readonly kind: 'embedded'; readonly dir: string }
) & {
  /** Bound on each connection attempt, 0 for none. Default is `DEFAULT_CONNECT_TIMEOUT_MS` (10 s). */
  readonly connectTimeoutMs?: number;
};

export interface ConnectionFlags {
  readonly databaseUrl?: string | undefined;
  readonly embeddedDir?: string | undefined;
}

/**
 * `--database-url`, else `DATABASE_URL`, else the standard `PG*` variables when
 * `PGHOST` or `PGDATABASE` is set, else the embedded cluster (`--embedded-dir`,
 * else `AUTHDB_EMBEDDED_DIR`, else `.authdb`).
 */
export function resolveConnectionSource(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ConnectionSource {
  if (flags.databaseUrl) return { kind: 'url', url: flags.databaseUrl, origin: '--database-url' };
  if (env.DATABASE_URL) return { kind: 'url', url: env.DATABASE_URL, origin: 'DATABASE_URL' };
  if (env.PGHOST || env.PGDATABASE) return { kind: 'pg-env' };
  return { kind: 'embedded', dir: flags.embeddedDir ?? env.AUTHDB_EMBEDDED_DIR ?? DEFAULT_EMBEDDED_DIR };
}

/** Query parameters that carry secrets (pg reads `?password=` as the password). */
const SECRET_PARAMS = ['password', 'sslpassword'];

/** The URL with its passwords replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of SECRET_PARAMS) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
    return parsed.toString();
  } catch {
    return '<unparseable connection string>';
  }
}
