import type { Drift } from '../contract/diff.js';
import { formatDrift, type DriftWording } from '../contract/format-drift.js';
import { MigrationError, MigrationPlanError } from './errors.js';
import { AUTHDB_SOURCE } from './migration-file.js';
import type { MigrationStatus } from './plan.js';

/** How a baseline difference reads: expected is what the migrations create, actual the database. */
export const BASELINE_WORDING: DriftWording = {
  added: 'in the database, not created by the migrations',
  missing: 'created by the migrations, missing from the database',
};

/**
 * authdb's migrations a baseline records, in name order, up to and including
 * `to` (default: all of them). Refused ({@link MigrationPlanError}) when `to`
 * is not one of authdb's migrations, or when the history already records one
 * of them: a baseline is for a schema with no history of them.
 */
export function planBaseline(statuses: readonly MigrationStatus[], to?: string): string[] {
  const own = statuses.filter((s) => s.source === AUTHDB_SOURCE);
  const end = to === undefined ? own.length - 1 : own.findIndex((s) => s.name === to);
  if (end === -1) {
    throw new MigrationPlanError(
      to === undefined ? 'there are no authdb migrations to baseline' : `--to ${to}: authdb has no migration of that name (baseline records authdb's own migrations; see authdb migrate status)`,
    );
  }
  const chosen = own.slice(0, end + 1);
  const recorded = chosen.filter((s) => s.state !== 'pending' && s.state !== 'out-of-order');
  if (recorded.length > 0) {
    throw new MigrationPlanError(
      [
        'the history (authdb_migrations) already records migrations this baseline would record; nothing was recorded:',
        ...recorded.map((s) => `  ${s.name}: ${s.state}${s.appliedAt ? ` at ${s.appliedAt.toISOString()}` : ''}`),
        'A baseline is for an install with no history. Apply what is pending with `authdb migrate up` instead.',
      ].join('\n'),
    );
  }
  return chosen.map((s) => s.name);
}

/** The schema does not hold exactly what the migrations to baseline create. Nothing was recorded. */
export class BaselineDriftError extends MigrationError {
  readonly drifts: readonly Drift[];

  constructor(schema: string, names: readonly string[], drifts: readonly Drift[]) {
    super(
      'AUTHDB_BASELINE_DRIFT',
      [
        `schema "${schema}" does not hold exactly what ${names.length} migration(s) (${names[0] ?? ''} … ${names.at(-1) ?? ''}) create; nothing was recorded.`,
        `${drifts.length} difference(s) (~ fields read "created by the migrations → in the database"):`,
        ...formatDrift(drifts, BASELINE_WORDING),
        'Make the schema match what the migrations create (or baseline fewer with --to NAME and apply the rest with',
        '`authdb migrate up`). If these are tables of your own with the same names, do not baseline: rename them and install',
        'authdb beside them, as "Adopting an existing database" in the README shows.',
      ].join('\n'),
    );
    this.drifts = drifts;
  }
}
