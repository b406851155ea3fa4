import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';

/** A file or directory authdb would write that lies inside an installed package (`node_modules`). */
export class InstalledPackagePathError extends Error {
  readonly code = 'AUTHDB_INSIDE_PACKAGE';

  constructor(message: string) {
    super(message);
    this.name = 'InstalledPackagePathError';
  }
}

/**
 * Refuses to write `path` when it lies inside a `node_modules` directory (as
 * written, or once symlinks are resolved): that is an installed package, such
 * as authdb's own, which the next `npm ci` replaces. `what` names the file
 * ("the new migration pair") and `fix` says where to write instead.
 */
export function assertProjectPath(path: string, what: string, fix: string): void {
  if (!isInsideInstalledPackage(path)) return;
  throw new InstalledPackagePathError(
    `refusing to write ${what} to ${resolve(path)}: it is inside node_modules (an installed package, which the next npm install or npm ci replaces); ${fix}`,
  );
}

/** `path`, or its real path (symlinks resolved), has a `node_modules` component. */
export function isInsideInstalledPackage(path: string): boolean {
  const absolute = resolve(path);
  return [absolute, realPathOf(absolute)].some((p) => p.split(sep).includes('node_modules'));
}

/** The real path of the nearest existing ancestor, with the rest of `path` appended. */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPathOf(parent), basename(path));
  }
}
