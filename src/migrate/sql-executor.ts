import type { ClientBase } from 'pg';
import type { UmzugStorage } from 'umzug';
import { MigrationSqlError } from './errors.js';
import { parseDirectives, type MigrationFile } from './migration-file.js';
import { toMigrationSqlError, toTrackingError } from './sql-error.js';
import { splitStatements } from './split-statements.js';
import type { TrackingTable } from './tracking-table.js';

export type Direction = 'up' | 'down';

/** Called when a migration finished in one direction, with its wall time. */
export type CompletionListener = (name: string, direction: Direction, durationMs: number) => void;

interface RunningMigration {
  readonly file: MigrationFile;
  readonly direction: Direction;
  /** The up or down file being run. */
  readonly path: string;
  readonly transaction: boolean;
  readonly startedAt: number;
  /** The session's search_path before a no-transaction file, restored after it. */
  readonly searchPath?: string;
}

/**
 * Runs migration files on one connection and doubles as umzug's storage, so
 * that a migration and its tracking row share one transaction:
 *
 *   run(file, 'up')      BEGIN; SET LOCAL search_path, lock_timeout; <up.sql>
 *   logMigration(name)   INSERT INTO authdb_migrations …; COMMIT
 *
 * umzug calls them in that order for each migration; any failure rolls the
 * whole transaction back, so neither the objects nor the row survive. Files
 * starting with `-- authdb:no-transaction` run in autocommit mode instead
 * (for `CREATE INDEX CONCURRENTLY`), one statement at a time, with the
 * settings applied to the session.
 */
export class SqlExecutor implements UmzugStorage {
  readonly #client: ClientBase;
  readonly #schema: string;
  readonly #tracking: TrackingTable;
  readonly #ddlLockTimeoutMs: number;
  readonly #onComplete: CompletionListener;
  #current: RunningMigration | undefined;

  constructor(options: {
    client: ClientBase;
    schema: string;
    tracking: TrackingTable;
    ddlLockTimeoutMs: number;
    onComplete: CompletionListener;
  }) {
    this.#client = options.client;
    this.#schema = options.schema;
    this.#tracking = options.tracking;
    this.#ddlLockTimeoutMs = options.ddlLockTimeoutMs;
    this.#onComplete = options.onComplete;
  }

  /** The statements that precede a file, for `--dry-run` and for execution. */
  preamble(transaction: boolean): Promise<string> {
    const scope = transaction ? 'SET LOCAL' : 'SET';
    return Promise.resolve(`${scope} search_path TO ${this.#searchPath().join(', ')};\n${scope} lock_timeout = ${this.#ddlLockTimeoutMs};\n`);
  }

  /** Body of an umzug migration: runs one file, leaving its transaction open for the tracking row. */
  async run(file: MigrationFile, direction: Direction): Promise<void> {
    const [path, sql] = direction === 'up' ? [file.upPath, file.upSql] : [file.downPath, file.downSql];
    const { transaction } = parseDirectives(sql);
    const searchPath = transaction ? undefined : await this.#sessionSearchPath();
    this.#current = { file, direction, path, transaction, startedAt: performance.now(), ...(searchPath !== undefined && { searchPath }) };
    try {
      if (transaction) await this.#client.query('BEGIN');
      await this.#client.query(await this.preamble(transaction));
      if (transaction) await this.#runInTransaction(path, sql);
      else await this.#runStatements(path, sql);
    } catch (error) {
      await this.#finishAfterFailure();
      throw error;
    }
  }

  async executed(): Promise<string[]> {
    return (await this.#tracking.applied()).map((m) => m.name);
  }

  async logMigration({ name }: { name: string }): Promise<void> {
    const current = this.#expect(name, 'up');
    await this.#record(() => this.#tracking.insert(name, current.file.checksum, performance.now() - current.startedAt));
  }

  async unlogMigration({ name }: { name: string }): Promise<void> {
    this.#expect(name, 'down');
    await this.#record(() => this.#tracking.delete(name));
  }

  /** The whole file as one query, inside the transaction `run` opened. */
  async #runInTransaction(path: string, sql: string): Promise<void> {
    await this.#client.query(sql).catch((error: unknown) => {
      throw toMigrationSqlError(error, path, sql);
    });
    if (this.#client.getTransactionStatus() === 'I') {
      throw new MigrationSqlError({
        file: path,
        serverMessage:
          'the file ended the transaction authdb runs it in (it contains COMMIT or ROLLBACK), so the migration cannot be ' +
          'recorded atomically and statements before that point may be committed; remove BEGIN/COMMIT/ROLLBACK ' +
          '(authdb wraps every file in a transaction), or start the file with "-- authdb:no-transaction"',
      });
    }
  }

  /** Each statement on its own, in autocommit mode (a multi-statement query would be one implicit transaction). */
  async #runStatements(path: string, sql: string): Promise<void> {
    for (const statement of await splitStatements(sql)) {
      await this.#client.query(statement.text).catch((error: unknown) => {
        throw toMigrationSqlError(error, path, sql, statement.offset);
      });
    }
  }

  async #record(write: () => Promise<void>): Promise<void> {
    const current = this.#current;
    try {
      await write();
    } catch (error) {
      await this.#finishAfterFailure();
      throw current ? toTrackingError(error, current.path, current.transaction) : error;
    }
    await this.#finish(true);
    if (current) this.#onComplete(current.file.name, current.direction, performance.now() - current.startedAt);
  }

  async #finish(success: boolean): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    if (current.transaction) await this.#client.query(success ? 'COMMIT' : 'ROLLBACK');
    else {
      // Back to the session's own search_path (authdb's sessions: pg_catalog, pg_temp), not the server default.
      await this.#client.query('SELECT pg_catalog.set_config($1::pg_catalog.text, $2::pg_catalog.text, false)', ['search_path', current.searchPath ?? '']);
      await this.#client.query('RESET lock_timeout');
    }
  }

  /** Rolls back; on a dead connection that fails too, and must not replace the error that ended the migration. */
  async #finishAfterFailure(): Promise<void> {
    await this.#finish(false).catch(() => undefined);
  }

  #expect(name: string, direction: Direction): RunningMigration {
    const current = this.#current;
    if (current?.file.name !== name || current.direction !== direction) {
      throw new Error(`internal error: ${direction} of ${name} was logged without being run`);
    }
    return current;
  }

  /** The target schema, then pg_temp: authdb needs no extension, so nothing else belongs on the path. */
  #searchPath(): string[] {
    return [this.#client.escapeIdentifier(this.#schema), 'pg_temp'];
  }

  async #sessionSearchPath(): Promise<string> {
    const { rows } = await this.#client.query<{ path: string }>("SELECT pg_catalog.current_setting('search_path') AS path");
    return rows[0]?.path ?? '';
  }
}
