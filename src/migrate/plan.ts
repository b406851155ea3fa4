import { MigrationHistoryError, MigrationOrderError, MigrationPlanError } from './errors.js';
import { AUTHDB_SOURCE, type MigrationFile } from './migration-file.js';
import type { AppliedMigration } from './tracking-table.js';

/**
 * `applied`: run and unchanged · `pending`: not run · `out-of-order`: not run,
 * but older than an applied migration of its source · `changed`: up file
 * edited since · `missing`: run, file gone · `unloaded`: run by a source whose
 * directory this run was not given (nothing is known of its file).
 */
export type MigrationState = 'applied' | 'pending' | 'out-of-order' | 'changed' | 'missing' | 'unloaded';

export interface MigrationStatus {
  readonly name: string;
  /** `authdb`, or the application's name for the directory it comes from. */
  readonly source: string;
  readonly state: MigrationState;
  readonly appliedAt: Date | null;
  /** Checksum recorded when applied, else the file's. */
  readonly checksum: string;
  /** For `out-of-order`: the newest applied migration of its source, which it sorts before. */
  readonly after?: string;
}

/** What `migrate down` should revert: one of the three. */
export type DownTarget = { readonly steps: number } | { readonly to: string } | { readonly all: true };

/** Options of {@link planUp}. */
export interface UpPlanOptions {
  /** Stop after this migration. */
  readonly to?: string | undefined;
  /** Apply `out-of-order` migrations instead of refusing them. Default is false. */
  readonly allowOutOfOrder?: boolean | undefined;
}

/**
 * Joins the files with the tracking rows. `sources` are the loaded sources'
 * names in run order (default: authdb's, then the files' own); rows of any
 * other source are `unloaded`, never `missing`. Sorted by source in that
 * order (unloaded ones last), then by name.
 */
export function migrationStatus(files: readonly MigrationFile[], applied: readonly AppliedMigration[], sources?: readonly string[]): MigrationStatus[] {
  const loaded = sources ?? [...new Set([AUTHDB_SOURCE, ...files.map((f) => f.source)])];
  const byName = new Map(applied.map((row) => [row.name, row]));
  const statuses: MigrationStatus[] = files.map((file) => {
    const row = byName.get(file.name);
    if (!row) return { name: file.name, source: file.source, state: 'pending', appliedAt: null, checksum: file.checksum };
    const state = row.checksum === file.checksum ? 'applied' : 'changed';
    return { name: file.name, source: file.source, state, appliedAt: row.appliedAt, checksum: row.checksum };
  });
  const known = new Set(files.map((f) => f.name));
  for (const row of applied) {
    if (known.has(row.name)) continue;
    const state = loaded.includes(row.source) ? 'missing' : 'unloaded';
    statuses.push({ name: row.name, source: row.source, state, appliedAt: row.appliedAt, checksum: row.checksum });
  }
  const rank = (source: string): number => (loaded.includes(source) ? loaded.indexOf(source) : loaded.length);
  statuses.sort((a, b) => rank(a.source) - rank(b.source) || compare(a.source, b.source) || compare(a.name, b.name));
  return markOutOfOrder(statuses);
}

/** A pending migration older than the newest applied one of its source is `out-of-order`. */
function markOutOfOrder(statuses: readonly MigrationStatus[]): MigrationStatus[] {
  const newest = new Map<string, string>();
  for (const s of statuses) {
    if (s.state === 'pending' || s.state === 'unloaded') continue;
    const current = newest.get(s.source);
    if (current === undefined || compare(s.name, current) > 0) newest.set(s.source, s.name);
  }
  return statuses.map((s) => {
    const after = newest.get(s.source);
    return s.state === 'pending' && after !== undefined && compare(s.name, after) < 0 ? { ...s, state: 'out-of-order', after } : s;
  });
}

/** Throws when an applied migration's file was edited or removed; `dirs` maps each loaded source to its directory. */
export function assertHistoryIntact(statuses: readonly MigrationStatus[], dirs: ReadonlyMap<string, string>): void {
  const problems = statuses.flatMap((s) => {
    const file = `${dirs.get(s.source) ?? '?'}/${s.name}.up.sql`;
    if (s.state === 'changed') return [`${s.name}: ${file} changed since it was applied (checksum ${s.checksum.slice(0, 12)}…)`];
    if (s.state === 'missing') return [`${s.name}: applied at ${s.appliedAt?.toISOString() ?? '?'}, but ${file} no longer exists`];
    return [];
  });
  if (problems.length > 0) throw new MigrationHistoryError(problems);
}

/**
 * Pending migrations in run order (authdb's first, then each application
 * source), up to and including `to` when given. Out-of-order migrations are
 * refused ({@link MigrationOrderError}) unless allowed.
 */
export function planUp(statuses: readonly MigrationStatus[], options: UpPlanOptions = {}): string[] {
  const late = statuses.flatMap((s) => (s.state === 'out-of-order' && s.after !== undefined ? [{ name: s.name, source: s.source, after: s.after }] : []));
  if (late.length > 0 && options.allowOutOfOrder !== true) throw new MigrationOrderError(late);
  const pending = statuses.filter((s) => s.state === 'pending' || s.state === 'out-of-order').map((s) => s.name);
  const { to } = options;
  if (to === undefined) return pending;
  const index = pending.indexOf(to);
  if (index === -1) {
    const state = statuses.find((s) => s.name === to)?.state;
    throw new MigrationPlanError(
      state ? `--to ${to}: that migration is ${state}, not pending` : `--to ${to}: no migration has that name`,
    );
  }
  return pending.slice(0, index + 1);
}

/**
 * Applied migrations of the loaded sources to revert, newest first by the
 * order they were applied in (`appliedOrder`, oldest first; default the run
 * order): the last `steps`, everything applied after `to` (which itself stays
 * applied), or all of them. Refused when that includes a migration of a
 * source not loaded (`unloaded`): it has no down file here, and what it built
 * may depend on what the others built.
 */
export function planDown(statuses: readonly MigrationStatus[], target: DownTarget, appliedOrder?: readonly string[]): string[] {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  const revertible = (s: MigrationStatus | undefined): boolean => s !== undefined && ['applied', 'changed', 'missing', 'unloaded'].includes(s.state);
  const order = appliedOrder ?? statuses.map((s) => s.name);
  const applied = order.filter((name) => revertible(byName.get(name))).reverse();
  const chosen = chooseDown(applied, target, statuses);
  const unloaded = chosen.flatMap((name) => {
    const s = byName.get(name);
    return s?.state === 'unloaded' ? [`${name} (source "${s.source}")`] : [];
  });
  if (unloaded.length > 0) {
    throw new MigrationPlanError(
      `the migrations to revert include ones this run was not given, applied after the others: ${unloaded.join(', ')}. ` +
        'Pass their directories (--app-migrations NAME=DIR, as for migrate up) so they are reverted first, in reverse order of application',
    );
  }
  return chosen;
}

function chooseDown(applied: readonly string[], target: DownTarget, statuses: readonly MigrationStatus[]): string[] {
  if ('all' in target) return [...applied];
  if ('steps' in target) {
    if (!Number.isInteger(target.steps) || target.steps < 1) throw new MigrationPlanError(`--steps must be a positive integer, got ${target.steps}`);
    return applied.slice(0, target.steps);
  }
  const index = applied.indexOf(target.to);
  if (index === -1) {
    throw new MigrationPlanError(
      statuses.some((s) => s.name === target.to)
        ? `--to ${target.to}: that migration is not applied, so there is nothing to roll back to`
        : `--to ${target.to}: no migration has that name`,
    );
  }
  return applied.slice(0, index);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
