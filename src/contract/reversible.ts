import type { ClientBase } from 'pg';
import { AUTHDB_SOURCE, type MigrationSourceSpec } from '../migrate/migration-file.js';
import { loadSources } from '../migrate/migration-source.js';
import { Migrator } from '../migrate/migrator.js';
import { TrackingTable } from '../migrate/tracking-table.js';
import { diffSnapshots, type Drift } from './diff.js';
import { ContractError } from './errors.js';
import type { DriftWording } from './format-drift.js';
import { CONTRACT_FORMAT, SCHEMA_KEY, takeSnapshot, type Snapshot } from './snapshot.js';

export interface VerifyReversibleOptions {
  /** Connected to an empty scratch database, not inside a transaction. */
  readonly client: ClientBase;
  readonly schema: string;
  readonly migrationsDir: string;
  /** The application's migration directories, verified after authdb's. Default is none. */
  readonly applicationSources?: readonly MigrationSourceSpec[];
  /** `lock_timeout` of migration statements. Default is the migrator's. */
  readonly ddlLockTimeoutMs?: number;
  /** Called after each migration passed. */
  readonly onVerified?: (name: string) => void;
}

/**
 * Why a migration failed: `down-not-restoring` its down file does not bring
 * the schema back to what it was before its up file; `up-not-repeatable` up
 * after down does not reproduce the first up; `error` a file failed to run.
 */
export type ReversibilityProblem = 'down-not-restoring' | 'up-not-repeatable' | 'error';

export type ReversibilityResult =
  | { readonly ok: true; readonly verified: readonly string[] }
  | {
      readonly ok: false;
      readonly verified: readonly string[];
      /** The first migration that failed. */
      readonly name: string;
      readonly upPath: string;
      readonly downPath: string;
      readonly problem: ReversibilityProblem;
      /** Expected → actual, for the two snapshot problems. */
      readonly drifts: readonly Drift[];
      readonly error?: unknown;
    };

/** How a drift reads for each snapshot problem. */
export const REVERSIBILITY_WORDING: Readonly<Record<Exclude<ReversibilityProblem, 'error'>, DriftWording>> = {
  'down-not-restoring': { added: 'left behind by the down migration: absent before up', missing: 'present before up, gone after down' },
  'up-not-repeatable': { added: 'only after down and up again', missing: 'only after the first up' },
};

/**
 * Proves every migration reversible, in order: snapshot, up, snapshot, down,
 * snapshot (must equal the first), up again, snapshot (must equal the
 * second). Stops at the first migration that fails. The database must be
 * empty (no authdb migrations applied, nothing in the schema).
 *
 * @example
 * const result = await verifyReversible({ client: scratch, schema: 'public', migrationsDir: 'migrations' });
 * if (!result.ok) console.error(`${result.name}: ${result.problem}`);
 */
export async function verifyReversible(options: VerifyReversibleOptions): Promise<ReversibilityResult> {
  const { client, schema } = options;
  const files = await loadSources([{ name: AUTHDB_SOURCE, dir: options.migrationsDir }, ...(options.applicationSources ?? [])]);
  // Before the first up the schema may not exist yet; after it, it must (the
  // migrator created it): a snapshot of a missing schema is empty and would
  // make any down file look like it restored everything. The schema's own
  // entry is left out: the engine creates the schema before the first
  // migration, and no down migration drops it.
  const snapshotOf = async (missingSchema: 'empty' | 'error'): Promise<Snapshot> => {
    const objects = Object.entries((await takeSnapshot(client, { schema, missingSchema })).objects).filter(([key]) => key !== SCHEMA_KEY);
    return { format: CONTRACT_FORMAT, objects: Object.fromEntries(objects) };
  };
  const initial = (): Promise<Snapshot> => snapshotOf('empty');
  const snapshot = (): Promise<Snapshot> => snapshotOf('error');
  await assertEmpty(client, schema, await initial());
  const migrator = new Migrator({
    client,
    schema,
    migrationsDir: options.migrationsDir,
    ...(options.applicationSources !== undefined && { applicationSources: options.applicationSources }),
    ...(options.ddlLockTimeoutMs !== undefined && { ddlLockTimeoutMs: options.ddlLockTimeoutMs }),
  });
  const verified: string[] = [];
  let before = await initial();
  for (const file of files) {
    const failure = (problem: ReversibilityProblem, drifts: readonly Drift[], error?: unknown): ReversibilityResult => ({
      ok: false,
      verified,
      name: file.name,
      upPath: file.upPath,
      downPath: file.downPath,
      problem,
      drifts,
      ...(error !== undefined && { error }),
    });
    try {
      await migrator.up({ to: file.name });
      const afterUp = await snapshot();
      // The scratch schema was empty: whatever rows the up inserted are its own.
      await migrator.down({ target: { steps: 1 }, force: true });
      const restored = diffSnapshots(before, await snapshot());
      if (restored.length > 0) return failure('down-not-restoring', restored);
      await migrator.up({ to: file.name });
      const again = await snapshot();
      const repeated = diffSnapshots(afterUp, again);
      if (repeated.length > 0) return failure('up-not-repeatable', repeated);
      before = again;
    } catch (error) {
      return failure('error', [], error);
    }
    verified.push(file.name);
    options.onVerified?.(file.name);
  }
  return { ok: true, verified };
}

/** Refuses a scratch database whose schema holds objects or applied migrations. */
export async function assertEmpty(client: ClientBase, schema: string, snapshot: Snapshot): Promise<void> {
  const applied = await new TrackingTable(client, schema).applied();
  const objects = Object.keys(snapshot.objects);
  if (applied.length === 0 && objects.length === 0) return;
  const found = applied.length > 0 ? `${applied.length} applied migration(s)` : `${objects.length} object(s), e.g. ${objects.slice(0, 3).join(', ')}`;
  throw new ContractError(
    'AUTHDB_SCRATCH',
    `the scratch database is not empty: schema "${schema}" has ${found}; the command applies migrations there, so give it an empty database (or omit --scratch-url to let it create one)`,
  );
}
