import type { ClientBase } from 'pg';
import type { Umzug } from 'umzug';
import { acquireMigrationLock, type LockHolder } from './advisory-lock.js';
import { revokeDefaultPrivileges, schemaObjectIds } from './default-privileges.js';
import { AUTHDB_SOURCE, parseDirectives, type MigrationFile, type MigrationSourceSpec } from './migration-file.js';
import { DEFAULT_MIGRATIONS_DIR, loadSources } from './migration-source.js';
import { assertHistoryIntact, migrationStatus, planDown, planUp, type DownTarget, type MigrationStatus, type UpPlanOptions } from './plan.js';
import { assertSchemaTrusted } from './schema-trust.js';
import { sourceOf, SqlExecutor, type CompletionListener, type Direction } from './sql-executor.js';
import { BlockerWatch, withBlockers } from './blockers.js';
import { dataAtRisk, DownDataError, type DataAtRisk } from './down-data.js';
import { existingObjects, ExistingObjectsError } from './existing-objects.js';
import { BaselineDriftError, planBaseline } from './baseline.js';
import type { Drift } from '../contract/diff.js';
import { ConnectionLostError, isConnectionLoss, MigrationInterruptedError, type RunningFile } from './run-faults.js';
import { assertStableSession, type ProbeSession } from './session-stability.js';
import { assertPrimary } from './standby.js';
import { explainEngineTimeout } from './engine-timeout.js';
import { TRACKING_TABLE, TrackingTable } from './tracking-table.js';

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
  /** Directory of authdb's `NAME.up.sql` / `NAME.down.sql` pairs. Default is the package's `migrations/`. */
  readonly migrationsDir?: string;
  /**
   * The application's own migration directories, run after authdb's, in this
   * order, in the same history; each migration is recorded with its source's
   * name. Default is none.
   */
  readonly applicationSources?: readonly MigrationSourceSpec[];
  /** How long to wait for another run's lock. Default is {@link DEFAULT_LOCK_TIMEOUT_MS}. */
  readonly lockTimeoutMs?: number;
  /** `lock_timeout` for migration statements. Default is {@link DEFAULT_DDL_LOCK_TIMEOUT_MS}. */
  readonly ddlLockTimeoutMs?: number;
  /** Progress: lock waits and each completed migration. */
  readonly onEvent?: (event: MigratorEvent) => void;
  /**
   * Opens a second session to the same server, used once per run to prove
   * that `client` keeps one server session (no transaction-mode pooler).
   * Default is none: only the in-band checks run.
   */
  readonly openProbeSession?: () => Promise<ProbeSession>;
  /**
   * The role that owns the install, for the schema-trust check of
   * {@link Migrator.status} (a monitoring role names it). Default is the
   * connected role; `up` and `down` always check against the connected role.
   */
  readonly owner?: string | undefined;
}

export type MigratorEvent =
  | { readonly type: 'lock-wait'; readonly holder: LockHolder | undefined }
  | { readonly type: 'started'; readonly file: RunningFile }
  /** Statements of the running file completed so far (after each round trip of a transaction file, each statement of a no-transaction one). */
  | { readonly type: 'progress'; readonly file: RunningFile; readonly done: number; readonly total: number }
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
  /** Set for dry runs of `down`: the tables and columns it would drop that hold data (beyond seed rows). */
  readonly dataAtRisk?: readonly DataAtRisk[];
}

/** Options of {@link Migrator.baseline}. */
export interface BaselineOptions {
  /** The last migration to record. Default is authdb's newest. */
  readonly to?: string | undefined;
  /** Prove, and return what would be recorded; record nothing. Default is false. */
  readonly dryRun?: boolean | undefined;
  /** The differences between what `files` create and the schema (expected → actual); none when it holds exactly that. */
  readonly prove: (files: readonly MigrationFile[]) => Promise<readonly Drift[]>;
}

/** Options of {@link Migrator.down}. */
export interface DownOptions {
  /** What to revert. Default is one step. */
  readonly target?: DownTarget;
  /** Plan only: return the SQL and the data it would drop, change nothing. Default is false. */
  readonly dryRun?: boolean;
  /**
   * Drop tables and columns that hold data (rows beyond the up files' seed
   * rows). Default is false: such a run throws {@link DownDataError}
   * (`AUTHDB_DOWN_DATA`) before reverting anything.
   */
  readonly force?: boolean;
}

/**
 * Applies and reverts SQL migrations in one schema, on top of umzug.
 *
 * @example
 * const client = new pg.Client(url); await client.connect();
 * await new Migrator({ client, schema: 'authdb' }).up();
 */
export class Migrator {
  readonly #client: ClientBase;
  readonly #schema: string;
  readonly #sources: readonly MigrationSourceSpec[];
  readonly #lockTimeoutMs: number;
  readonly #ddlLockTimeoutMs: number;
  readonly #onEvent: (event: MigratorEvent) => void;
  readonly #tracking: TrackingTable;
  readonly #openProbe: (() => Promise<ProbeSession>) | undefined;
  /** The file running now, and how many this run completed: what a fault report needs. */
  #running: RunningFile | undefined;
  #completed = 0;
  readonly #interrupt = new AbortController();
  /** Who blocks the running file's statements, seen from the probe session; with the backend pid it watches. */
  #watch: { readonly blockers: BlockerWatch; readonly pid: number } | undefined;
  /** The backend the running `up`/`down` holds its lock in; undefined outside a run. */
  #sessionPid: number | undefined;
  /** Which of authdb's own statements runs now, before the migrations ("while …"); undefined once they run. */
  #step: string | undefined;
  readonly #owner: string | undefined;

  constructor(options: MigratorOptions) {
    this.#client = options.client;
    this.#schema = options.schema ?? DEFAULT_SCHEMA;
    this.#sources = [{ name: AUTHDB_SOURCE, dir: options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR }, ...(options.applicationSources ?? [])];
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.#ddlLockTimeoutMs = options.ddlLockTimeoutMs ?? DEFAULT_DDL_LOCK_TIMEOUT_MS;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#tracking = new TrackingTable(this.#client, this.#schema);
    this.#openProbe = options.openProbeSession;
    this.#owner = options.owner;
  }

  /**
   * Stops the run at the next boundary: no further migration starts and a
   * lock wait ends. Cancelling the statement that runs now is the caller's
   * part (a cancel request on another connection), after which the running
   * migration's transaction rolls back and `up`/`down` reject with a
   * {@link MigrationInterruptedError}. Returns the file running now.
   */
  interrupt(signal: NodeJS.Signals): RunningFile | undefined {
    if (!this.#interrupt.signal.aborted) this.#interrupt.abort(signal);
    return this.#running;
  }

  /** Every migration known to the files or the tracking table, by name. Read-only. */
  async status(): Promise<MigrationStatus[]> {
    await assertSchemaTrusted(this.#client, { schema: this.#schema, owner: this.#owner });
    const [files, applied] = await Promise.all([loadSources(this.#sources), this.#tracking.applied()]);
    return migrationStatus(files, applied, this.#sourceNames());
  }

  /** The sources of this migrator, authdb's first: the order `up` applies them in. */
  get sources(): readonly MigrationSourceSpec[] {
    return this.#sources;
  }

  /**
   * Applies pending migrations in order (authdb's, then each application
   * source's), up to and including `to`. Out-of-order ones are refused unless
   * `allowOutOfOrder`.
   */
  async up(options: UpPlanOptions & { readonly dryRun?: boolean } = {}): Promise<MigrationRun> {
    return this.#execute('up', (statuses) => planUp(statuses, options), options.dryRun ?? false);
  }

  /** Reverts applied migrations, the most recently applied first. Default is one step. */
  async down(options: DownOptions = {}): Promise<MigrationRun> {
    const target = options.target ?? { steps: 1 };
    return this.#execute('down', (statuses, order) => planDown(statuses, target, order), options.dryRun ?? false, options.force ?? false);
  }

  /**
   * Records authdb's migrations (up to and including `to`, default all) as
   * applied without running them, once `prove` found no difference between
   * what they create and the schema; otherwise throws a
   * {@link BaselineDriftError} (`AUTHDB_BASELINE_DRIFT`) and records nothing.
   * Under the migration lock, the rows in one transaction. A dry run proves
   * the same and returns what it would record.
   */
  async baseline(options: BaselineOptions): Promise<MigrationRun> {
    const files = await loadSources(this.#sources);
    const prove = async (): Promise<string[]> => {
      await assertSchemaTrusted(this.#client, { schema: this.#schema });
      const names = planBaseline(this.#checked(files, await this.#tracking.applied()), options.to);
      const drifts = await options.prove(inPlan(files, names));
      if (drifts.length > 0) throw new BaselineDriftError(this.#schema, names, drifts);
      return names;
    };
    if (options.dryRun === true) return { names: await prove() };
    const release = await this.#lock('up', 'migrate baseline');
    try {
      const names = await prove();
      const existed = await schemaObjectIds(this.#client, this.#schema);
      await this.#tracking.ensure();
      await revokeDefaultPrivileges(this.#client, this.#schema, existed);
      await assertSchemaTrusted(this.#client, { schema: this.#schema });
      await this.#record(inPlan(files, names));
      return { names };
    } finally {
      await this.#watch?.blockers.close();
      this.#watch = undefined;
      this.#sessionPid = undefined;
      await release();
    }
  }

  /** One transaction: a tracking row for each file, applied now, duration 0. */
  async #record(files: readonly MigrationFile[]): Promise<void> {
    await this.#client.query('BEGIN');
    try {
      for (const file of files) await this.#tracking.insert(file.name, file.source, file.checksum, 0);
      await this.#client.query('COMMIT');
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async #execute(direction: Direction, plan: (statuses: readonly MigrationStatus[], appliedOrder: readonly string[]) => string[], dryRun: boolean, force = false): Promise<MigrationRun> {
    const files = await loadSources(this.#sources);
    const planNames = async (): Promise<string[]> => {
      const applied = await this.#tracking.applied();
      return plan(this.#checked(files, applied), applied.map((row) => row.name));
    };
    if (dryRun) {
      await assertSchemaTrusted(this.#client, { schema: this.#schema });
      const names = await planNames();
      if (direction === 'up') await this.#refuseExistingObjects(files, names);
      const executor = this.#executor(() => undefined);
      await executor.prepare(inPlan(files, names), direction);
      const planned = await this.#describe(executor, files, names, direction);
      if (direction === 'up') return { names, planned };
      return { names, planned, dataAtRisk: await dataAtRisk(this.#client, files, inPlan(files, names), this.#schema) };
    }
    const release = await this.#lock(direction);
    let failure: unknown;
    let names: string[] = [];
    try {
      // Only `up` creates the schema and table: a `down` against the wrong
      // database or a mistyped --schema must not leave an empty one behind.
      // Refuse a schema another role controls before creating or running anything in it;
      // check again after creating the schema and tracking table (stripped of default privileges).
      this.#step = `checking that schema "${this.#schema}" is trusted`;
      await assertSchemaTrusted(this.#client, { schema: this.#schema });
      if (direction === 'up') {
        // Before creating anything, even the tracking table.
        this.#step = 'reading the migration history and the objects the pending migrations would create';
        await this.#refuseExistingObjects(files, await planNames());
        this.#step = `creating the tracking table ${TRACKING_TABLE} of schema "${this.#schema}"`;
        const existed = await schemaObjectIds(this.#client, this.#schema);
        await this.#tracking.ensure();
        await revokeDefaultPrivileges(this.#client, this.#schema, existed);
        this.#step = `checking that schema "${this.#schema}" is trusted`;
        await assertSchemaTrusted(this.#client, { schema: this.#schema });
      }
      this.#step = `reading the migration history (${TRACKING_TABLE} of schema "${this.#schema}")`;
      names = await planNames();
      const executor = this.#executor((name, dir, durationMs) => {
        this.#running = undefined;
        this.#completed += 1;
        this.#onEvent({ type: dir === 'up' ? 'applied' : 'reverted', name, durationMs });
      });
      // Every file of the run is parsed before its first statement runs.
      await executor.prepare(inPlan(files, names), direction);
      if (direction === 'down' && !force) {
        this.#step = 'counting the rows the down would drop';
        const data = await dataAtRisk(this.#client, files, inPlan(files, names), this.#schema);
        if (data.length > 0) throw new DownDataError(data);
      }
      this.#step = undefined;
      const umzug = await this.#umzug(files, executor);
      await (direction === 'up' ? umzug.up({ migrations: names }) : umzug.down({ migrations: names }));
    } catch (error) {
      failure = await explainEngineTimeout(this.#client, unwrapUmzugError(error), this.#step);
    } finally {
      this.#step = undefined;
      await this.#watch?.blockers.close();
      this.#watch = undefined;
      this.#sessionPid = undefined;
    }
    // A failed release must not hide the failure that ended the run (on a
    // dead connection both fail); with no failure, it is the error.
    let released = true;
    try {
      await release();
    } catch (error) {
      if (failure === undefined) throw error;
      released = false;
    }
    if (failure !== undefined) throw this.#explain(failure, direction, released);
    return { names };
  }

  /** Proves the session stable, then takes the schema's migration lock; resolves to its release. */
  async #lock(direction: Direction, command = `migrate ${direction}`): Promise<() => Promise<void>> {
    this.#running = undefined;
    this.#completed = 0;
    this.#sessionPid = undefined;
    try {
      // Before the lock and any probe: a standby takes the lock but no write.
      this.#step = 'checking that the server is not a standby';
      await assertPrimary(this.#client, command);
      // Before the lock: through a transaction-mode pooler the lock itself would leak.
      this.#step = 'checking that the connection keeps one server session';
      const pid = await assertStableSession(this.#client, this.#openProbe);
      this.#sessionPid = pid;
      if (this.#openProbe) this.#watch = { blockers: new BlockerWatch(this.#openProbe, this.#ddlLockTimeoutMs / 4), pid };
      this.#step = `taking the migration lock of schema "${this.#schema}"`;
      return await acquireMigrationLock(this.#client, this.#schema, {
        timeoutMs: this.#lockTimeoutMs,
        signal: this.#interrupt.signal,
        onWait: (holder) => {
          this.#onEvent({ type: 'lock-wait', holder });
        },
      });
    } catch (error) {
      throw this.#explain(await explainEngineTimeout(this.#client, error, this.#step), direction, true);
    }
  }

  /** A run's failure as the user needs it: an interruption or a lost connection says what was kept. */
  #explain(error: unknown, direction: Direction, lockReleased: boolean): unknown {
    const progress = { running: this.#running, completed: this.#completed, direction };
    const reason: unknown = this.#interrupt.signal.reason;
    if (this.#interrupt.signal.aborted && typeof reason === 'string') return new MigrationInterruptedError(reason as NodeJS.Signals, progress, error, lockReleased);
    if (isConnectionLoss(error)) return new ConnectionLostError(progress, error);
    return error;
  }

  /** umzug's migration body: refuses to start after an interrupt, and tracks the running file. */
  async #runFile(executor: SqlExecutor, file: MigrationFile, direction: Direction): Promise<void> {
    this.#interrupt.signal.throwIfAborted();
    const { path, text } = sourceOf(file, direction);
    this.#running = { name: file.name, direction, path, transaction: parseDirectives(text).transaction };
    this.#onEvent({ type: 'started', file: this.#running });
    const watch = this.#watch;
    watch?.blockers.start(watch.pid);
    try {
      const existed = await schemaObjectIds(this.#client, this.#schema);
      await executor.run(file, direction);
      await this.#takeBackDefaultPrivileges(file, direction, existed);
    } catch (error) {
      throw withBlockers(error, watch?.blockers.seen ?? []);
    } finally {
      watch?.blockers.stop();
    }
  }

  /** Refuses (nothing run) when the schema holds objects the planned files create and no applied file does. */
  async #refuseExistingObjects(files: readonly MigrationFile[], names: readonly string[]): Promise<void> {
    const applied = new Set((await this.#tracking.applied()).map((row) => row.name));
    const found = await existingObjects(this.#client, this.#schema, inPlan(files, names), files.filter((f) => applied.has(f.name)));
    if (found.length > 0) throw new ExistingObjectsError(this.#schema, found);
  }

  #checked(files: readonly MigrationFile[], applied: Awaited<ReturnType<TrackingTable['applied']>>): MigrationStatus[] {
    const statuses = migrationStatus(files, applied, this.#sourceNames());
    assertHistoryIntact(statuses, new Map(this.#sources.map((s) => [s.name, s.dir])));
    return statuses;
  }

  #sourceNames(): string[] {
    return this.#sources.map((s) => s.name);
  }

  async #umzug(files: readonly MigrationFile[], executor: SqlExecutor): Promise<Umzug> {
    // Loaded on first use: umzug and its dependencies are much of the
    // CLI's start-up time, which `--help`, `status` and `--dry-run` do not need.
    const { Umzug } = await import('umzug');
    return new Umzug({
      migrations: files.map((file) => ({
        name: file.name,
        path: file.upPath,
        up: () => this.#runFile(executor, file, 'up'),
        down: () => this.#runFile(executor, file, 'down'),
      })),
      storage: executor,
      logger: undefined,
    });
  }

  /** In the file's own transaction (still open): what `pg_default_acl` gave other roles on the objects it created goes. */
  async #takeBackDefaultPrivileges(file: MigrationFile, direction: Direction, existed: Awaited<ReturnType<typeof schemaObjectIds>>): Promise<void> {
    try {
      await revokeDefaultPrivileges(this.#client, this.#schema, existed);
    } catch (error) {
      if (this.#client.getTransactionStatus() !== 'I') await this.#client.query('ROLLBACK');
      throw new Error(`${direction === 'up' ? file.upPath : file.downPath}: could not take back the default privileges of the objects it created: ${(error as Error).message}`, { cause: error });
    }
  }

  #executor(onComplete: CompletionListener): SqlExecutor {
    return new SqlExecutor({
      client: this.#client,
      schema: this.#schema,
      tracking: this.#tracking,
      ddlLockTimeoutMs: this.#ddlLockTimeoutMs,
      onComplete,
      onProgress: (done, total) => {
        if (this.#running) this.#onEvent({ type: 'progress', file: this.#running, done, total });
      },
      signal: this.#interrupt.signal,
      ...(this.#sessionPid !== undefined && { sessionPid: this.#sessionPid }),
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
