import { readFileSync } from 'node:fs';

/**
 * authdb's version, from the package.json beside `src/` and `dist/` (the
 * installed package's own, whichever of the two runs).
 */
export function authdbVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = (manifest as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error('package.json has no "version"');
  return version;
}
