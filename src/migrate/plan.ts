import { MigrationHistoryError, MigrationPlanError } from './errors.js';
import type { MigrationFile } from './migration-file.js';
import type { AppliedMigration } from './tracking-table.js';

/** `applied`: run and unchanged · `pending`: not run · `changed`: up file edited since · `missing`: run, file gone. */
export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

export interface MigrationStatus {
  readonly name: string;
  readonly state: MigrationState;
  readonly appliedAt: Date | null;
  /** Checksum recorded when applied, else the file's. */
  readonly checksum: string;
}

/** What `migrate down` should revert: one of the three. */
export type DownTarget = { readonly steps: number } | { readonly to: string } | { readonly all: true };

/** Joins the files with the tracking rows, sorted by name. */
export function migrationStatus(files: readonly MigrationFile[], applied: readonly AppliedMigration[]): MigrationStatus[] {
  const byName = new Map(applied.map((row) => [row.name, row]));
  const statuses: MigrationStatus[] = files.map((file) => {
    const row = byName.get(file.name);
    if (!row) return { name: file.name, state: 'pending', appliedAt: null, checksum: file.checksum };
    const state = row.checksum === file.checksum ? 'applied' : 'changed';
    return { name: file.name, state, appliedAt: row.appliedAt, checksum: row.checksum };
  });
  const known = new Set(files.map((f) => f.name));
  for (const row of applied) {
    if (!known.has(row.name)) statuses.push({ name: row.name, state: 'missing', appliedAt: row.appliedAt, checksum: row.checksum });
  }
  return statuses.sort((a, b) => a.name.localeCompare(b.name));
}

/** Throws when an applied migration's file was edited or removed. */
export function assertHistoryIntact(statuses: readonly MigrationStatus[], dir: string): void {
  const problems = statuses.flatMap((s) => {
    if (s.state === 'changed') return [`${s.name}: ${dir}/${s.name}.up.sql changed since it was applied (checksum ${s.checksum.slice(0, 12)}…)`];
    if (s.state === 'missing') return [`${s.name}: applied at ${s.appliedAt?.toISOString() ?? '?'}, but ${dir}/${s.name}.up.sql no longer exists`];
    return [];
  });
  if (problems.length > 0) throw new MigrationHistoryError(problems);
}

/** Pending migrations in order, up to and including `to` when given. */
export function planUp(statuses: readonly MigrationStatus[], to?: string): string[] {
  const pending = statuses.filter((s) => s.state === 'pending').map((s) => s.name);
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
 * Applied migrations to revert, newest first: the last `steps`, everything
 * applied after `to` (which itself stays applied), or all of them.
 */
export function planDown(statuses: readonly MigrationStatus[], target: DownTarget): string[] {
  const applied = statuses.filter((s) => s.state !== 'pending').map((s) => s.name).reverse();
  if ('all' in target) return applied;
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
