/** URL schemes authdb connects with (the two libpq accepts). */
export const POSTGRES_URL_SCHEMES: readonly string[] = ['postgres:', 'postgresql:'];

/**
 * Why `url` is not a PostgreSQL connection URL, or `undefined` when it is.
 * Checked before anything connects, so free text ("use the prod database")
 * or another scheme (`mysql://…`, `https://…`) never reaches the driver,
 * which would look up a word of it as a host name. The answer never repeats
 * the value: it may carry a password.
 */
export function databaseUrlProblem(url: string): string | undefined {
  if (url.trim() === '') return 'is empty';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (scheme === undefined) return 'is not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)';
  if (!POSTGRES_URL_SCHEMES.includes(`${scheme.toLowerCase()}:`)) {
    return `has the scheme "${scheme}:"; only postgres:// and postgresql:// URLs are accepted`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE; percent-encode special characters in the password)';
  }
  if (!url.slice(scheme.length + 1).startsWith('//')) return 'is not a valid URL (expected postgres://… with two slashes)';
  if (/\s/.test(decodeURIComponent(parsed.hostname))) return 'has a host name with spaces';
  return undefined;
}
