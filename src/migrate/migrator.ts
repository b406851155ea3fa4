import type { ClientBase } from 'pg';
import type { Umzug } from 'umzug';
import { acquireMigrationLock, type LockHolder } from './advisory-lock.js';
import { parseDirectives, type MigrationFile } from './migration-file.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from './migration-source.js';
import { assertHistoryIntact, migrationStatus, planDown, planUp, type DownTarget, type MigrationStatus } from './plan.js';
import { sourceOf, SqlExecutor, type CompletionListener, type Direction } from './sql-executor.js';
import { TrackingTable } from './tracking-table.js';

/** Default target schema. */
export const DEFAULT_SCHEMA = 'public';
/** Default wait for another run's migration lock, in milliseconds. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** Default `lock_timeout` of migration statements, in milliseconds. */
export const DEFAULT_DDL_LOCK_TIMEOUT_MS = 10_000;

export interface MigratorOptions {
  /** A connected client that is not inside a transaction; the migrator never closes it. */
  readonly client: ClientBase;
  /** Schema the objects and `authdb_migrations` live in. Default is `public`. */
  readonly schema?: string;
  /** Directory of `NAME.up.sql` / `NAME.down.sql` pairs. Default is the package's `migrations/`. */
  readonly migrationsDir?: string;
  /** How long to wait for another run's lock. Default is {@link DEFAULT_LOCK_TIMEOUT_MS}. */
  readonly lockTimeoutMs?: number;
  /** `lock_timeout` for migration statements. Default is {@link DEFAULT_DDL_LOCK_TIMEOUT_MS}. */
  readonly ddlLockTimeoutMs?: number;
  /** Progress: lock waits and each completed migration. */
  readonly onEvent?: (event: MigratorEvent) => void;
}

export type MigratorEvent =
  | { readonly type: 'lock-wait'; readonly holder: LockHolder | undefined }
  | { readonly type: 'applied' | 'reverted'; readonly name: string; readonly durationMs: number };

/** A migration as `--dry-run` shows it: the exact SQL, preamble included. */
export interface PlannedMigration {
  readonly name: string;
  readonly direction: Direction;
  readonly path: string;
  readonly transaction: boolean;
  readonly sql: string;
}

export interface MigrationRun {
  /** Names applied or reverted (or that would be, for a dry run), in order. */
  readonly names: readonly string[];
  /** Set for dry runs: what would run. */
  readonly planned?: readonly PlannedMigration[];
}

/**
 * Applies and reverts SQL migrations in one schema, on top of umzug.
 *
 * @example
 * const client = new pg.Client(url); await client.connect();
 * await new Migrator({ client, schema: 'auth' }).up();
 */
export class Migrator {
  readonly #client: ClientBase;
  readonly #schema: string;
  readonly #dir: string;
  readonly #lockTimeoutMs: number;
  readonly #ddlLockTimeoutMs: number;
  readonly #onEvent: (event: MigratorEvent) => void;
  readonly #tracking: TrackingTable;

  constructor(options: MigratorOptions) {
    this.#client = options.client;
    this.#schema = options.schema ?? DEFAULT_SCHEMA;
    this.#dir = options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.#ddlLockTimeoutMs = options.ddlLockTimeoutMs ?? DEFAULT_DDL_LOCK_TIMEOUT_MS;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#tracking = new TrackingTable(this.#client, this.#schema);
  }

  /** Every migration known to the files or the tracking table, by name. Read-only. */
  async status(): Promise<MigrationStatus[]> {
    const [files, applied] = await Promise.all([loadMigrations(this.#dir), this.#tracking.applied()]);
    return migrationStatus(files, applied);
  }

  /** Applies pending migrations in order, up to and including `to`. */
  async up(options: { readonly to?: string; readonly dryRun?: boolean } = {}): Promise<MigrationRun> {
    return this.#execute('up', (statuses) => planUp(statuses, options.to), options.dryRun ?? false);
  }

  /** Reverts applied migrations, newest first. Default is one step. */
  async down(options: { readonly target?: DownTarget; readonly dryRun?: boolean } = {}): Promise<MigrationRun> {
    return this.#execute('down', (statuses) => planDown(statuses, options.target ?? { steps: 1 }), options.dryRun ?? false);
  }

  async #execute(direction: Direction, plan: (statuses: readonly MigrationStatus[]) => string[], dryRun: boolean): Promise<MigrationRun> {
    const files = await loadMigrations(this.#dir);
    if (dryRun) {
      const names = plan(this.#checked(files, await this.#tracking.applied()));
      const executor = this.#executor(() => undefined);
      await executor.prepare(inPlan(files, names), direction);
      return { names, planned: await this.#describe(executor, files, names, direction) };
    }
    const release = await acquireMigrationLock(this.#client, this.#schema, {
      timeoutMs: this.#lockTimeoutMs,
      onWait: (holder) => {
        this.#onEvent({ type: 'lock-wait', holder });
      },
    });
    try {
      // Only `up` creates the schema and table: a `down` against the wrong
      // database or a mistyped --schema must not leave an empty one behind.
      if (direction === 'up') await this.#tracking.ensure();
      const names = plan(this.#checked(files, await this.#tracking.applied()));
      const executor = this.#executor((name, dir, durationMs) => {
        this.#onEvent({ type: dir === 'up' ? 'applied' : 'reverted', name, durationMs });
      });
      // Every file of the run is parsed before its first statement runs.
      await executor.prepare(inPlan(files, names), direction);
      const umzug = await this.#umzug(files, executor);
      await (direction === 'up' ? umzug.up({ migrations: names }) : umzug.down({ migrations: names }));
      return { names };
    } catch (error) {
      throw unwrapUmzugError(error);
    } finally {
      await release();
    }
  }

  #checked(files: readonly MigrationFile[], applied: Awaited<ReturnType<TrackingTable['applied']>>): MigrationStatus[] {
    const statuses = migrationStatus(files, applied);
    assertHistoryIntact(statuses, this.#dir);
    return statuses;
  }

  async #umzug(files: readonly MigrationFile[], executor: SqlExecutor): Promise<Umzug> {
    // Loaded on first use: umzug and its dependencies are much of the
    // CLI's start-up time, which `--help`, `status` and `--dry-run` do not need.
    const { Umzug } = await import('umzug');
    return new Umzug({
      migrations: files.map((file) => ({
        name: file.name,
        path: file.upPath,
        up: () => executor.run(file, 'up'),
        down: () => executor.run(file, 'down'),
      })),
      storage: executor,
      logger: undefined,
    });
  }

  #executor(onComplete: CompletionListener): SqlExecutor {
    return new SqlExecutor({
      client: this.#client,
      schema: this.#schema,
      tracking: this.#tracking,
      ddlLockTimeoutMs: this.#ddlLockTimeoutMs,
      onComplete,
    });
  }

  async #describe(executor: SqlExecutor, files: readonly MigrationFile[], names: readonly string[], direction: Direction): Promise<PlannedMigration[]> {
    const byName = new Map(files.map((f) => [f.name, f]));
    const planned: PlannedMigration[] = [];
    for (const name of names) {
      const file = byName.get(name);
      if (!file) continue;
      const { path, text } = sourceOf(file, direction);
      const { transaction } = parseDirectives(text);
      planned.push({ name, direction, path, transaction, sql: `${await executor.preamble(transaction)}${text}` });
    }
    return planned;
  }
}

/** The files of `names`, in the plan's order. */
function inPlan(files: readonly MigrationFile[], names: readonly string[]): MigrationFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  return names.flatMap((name) => byName.get(name) ?? []);
}

/** umzug wraps failures in its own MigrationError; callers want ours (with file and line). */
function unwrapUmzugError(error: unknown): unknown {
  if (error instanceof Error && error.constructor.name === 'MigrationError' && !('code' in error) && error.cause) return error.cause;
  return error;
}
