import type { Client, ClientBase, QueryConfig } from 'pg';
import type { UmzugStorage } from 'umzug';
import { READING_SETTINGS, readingChangeMessage } from '../sql/session-reading.js';
import { statementText } from '../sql/parse.js';
import type { SqlSource } from '../sql/sql-source.js';
import { MigrationSqlError } from './errors.js';
import { extensionHint } from './extension-hint.js';
import { halfwayOutcome, leftoverIndexReport, movedSessionOutcome, possibleLeftoverIndex, statementTimeoutHint } from './failure-report.js';
import type { MigrationFile } from './migration-file.js';
import { prepareScripts, type MigrationScript, type ScriptStatement } from './migration-script.js';
import { isConnectionLoss, LostDuringStatement, StoppedBetweenStatements } from './run-faults.js';
import { PipelineStopped, PREPARED, runPipeline } from './statement-pipeline.js';
import { toStatementError, toTrackingError, withExplanation, type PositionUnit } from './sql-error.js';
import { expectBackend } from './session-stability.js';
import type { TrackingTable } from './tracking-table.js';

export type Direction = 'up' | 'down';

/** Called when a migration finished in one direction, with its wall time. */
export type CompletionListener = (name: string, direction: Direction, durationMs: number) => void;

/** Called as the running file's statements complete: how many of how many. */
export type ProgressListener = (done: number, total: number) => void;

/**
 * At most this many statements, and about {@link PIPELINE_BYTES} of SQL, go
 * to the server in one round trip. The count bounds how long an interrupt
 * that reaches the server between two statements (which the server does not
 * act on) waits for the pipeline to end before the run stops. The size keeps
 * a pipeline within what the server's socket buffer takes at once: inside a
 * pipeline the server waits for the rest of it with no timeout of its own
 * (idle_in_transaction_session_timeout starts only after the Sync), so a
 * network path that dies while a pipeline is still on its way would leave the
 * session holding its locks.
 */
const PIPELINE_STATEMENTS = 500;
const PIPELINE_BYTES = 64 * 1024;

/**
 * Run before a statement whose bytes another client_encoding or
 * standard_conforming_strings would read differently, when it is not first in
 * its pipeline: fails (22P02) unless the server reads as authdb parsed. Plain
 * ASCII without a backslash, so every setting reads it the same; qualified, so
 * no function or operator a file creates can stand in.
 */
const READING_GUARD =
  "SELECT CAST(CASE WHEN pg_catalog.current_setting('client_encoding') OPERATOR(pg_catalog.=) 'UTF8' " +
  "AND pg_catalog.current_setting('standard_conforming_strings') OPERATOR(pg_catalog.=) 'on' " +
  "THEN '1' ELSE pg_catalog.current_setting('client_encoding') END AS pg_catalog.int4)";

/**
 * The texts of a pipeline: its statements, each one that another reading
 * would change (a byte ≥ 0x80 or a backslash) after a guard, except the first,
 * which runs as the last round trip left the settings (the server reports
 * any change at its end). A change made and undone within one pipeline is
 * seen by the guard before the next such statement.
 */
function guarded(script: MigrationScript, batch: readonly ScriptStatement[]): readonly PipelineEntry[] {
  // The guard is prepared once per pipeline, and sent as text after a statement that may drop it (DEALLOCATE, DISCARD).
  let prepared = true;
  return batch.flatMap((statement, position): PipelineEntry[] => {
    const entry: PipelineEntry = { statement, text: statementText(script.source, statement), guard: false };
    const guard: PipelineEntry = { statement, text: prepared ? PREPARED : READING_GUARD, guard: true };
    if (statement.dropsPrepared) prepared = false;
    return position > 0 && readingMatters(script.source.bytes, statement) ? [guard, entry] : [entry];
  });
}

interface PipelineEntry {
  /** The file's statement; for a guard, the statement it runs before. */
  readonly statement: ScriptStatement;
  readonly text: string | typeof PREPARED;
  readonly guard: boolean;
}

/** Whether the statement has a byte that client_encoding or standard_conforming_strings reads differently. */
function readingMatters(bytes: Uint8Array, statement: ScriptStatement): boolean {
  for (let i = statement.start; i < statement.end; i++) {
    const byte = bytes[i] ?? 0;
    if (byte >= 0x80 || byte === 0x5c) return true;
  }
  return false;
}

/** The statements of the pipeline that starts at `from`: at least one. */
function pipelineFrom(statements: readonly ScriptStatement[], from: number): readonly ScriptStatement[] {
  let to = from + 1;
  let bytes = (statements[from]?.end ?? 0) - (statements[from]?.start ?? 0);
  for (; to < statements.length && to - from < PIPELINE_STATEMENTS; to++) {
    const next = statements[to];
    if (!next) break;
    bytes += next.end - next.start;
    if (bytes > PIPELINE_BYTES) break;
  }
  return statements.slice(from, to);
}

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

/** The up or down half of a migration. */
export function sourceOf(file: MigrationFile, direction: Direction): SqlSource {
  return direction === 'up' ? file.up : file.down;
}

/**
 * Runs migration files on one connection and doubles as umzug's storage, so
 * that a migration and its tracking row share one transaction:
 *
 *   prepare(files)       parse every file of the run; refuse them all before anything runs
 *   run(file, 'up')      BEGIN; SET LOCAL search_path, lock_timeout; each statement of <up.sql>
 *   logMigration(name)   INSERT INTO authdb_migrations …; COMMIT
 *
 * umzug calls run and logMigration in that order for each migration; any
 * failure rolls the whole transaction back, so neither the objects nor the
 * row survive. Statements are sent one at a time (the parse gives each one's
 * position), so an error the server reports without a position (a unique
 * violation, a timeout) is still located at its statement's line. Files
 * starting with `-- authdb:no-transaction` run in autocommit mode instead
 * (for `CREATE INDEX CONCURRENTLY`), with the settings applied to the session.
 */
export class SqlExecutor implements UmzugStorage {
  readonly #client: ClientBase;
  readonly #schema: string;
  readonly #tracking: TrackingTable;
  readonly #ddlLockTimeoutMs: number;
  readonly #onComplete: CompletionListener;
  readonly #onProgress: ProgressListener;
  readonly #sessionPid: number | undefined;
  readonly #signal: AbortSignal | undefined;
  #current: RunningMigration | undefined;
  /** What the server reported (ParameterStatus) of the settings that change how it reads a statement, while a file ran. */
  readonly #reading = new Map<string, string>();
  readonly #watchReading = (message: { readonly parameterName?: string; readonly parameterValue?: string }): void => {
    const { parameterName: name, parameterValue: value } = message;
    if (name !== undefined && value !== undefined && name in READING_SETTINGS) this.#reading.set(name, value);
  };
  /** How the server counts the positions of its errors in this database. */
  #positions: PositionUnit = 'characters';
  /** Parsed files of the run, by path. */
  readonly #scripts = new Map<string, MigrationScript>();

  constructor(options: {
    client: ClientBase;
    schema: string;
    tracking: TrackingTable;
    ddlLockTimeoutMs: number;
    onComplete: CompletionListener;
    onProgress?: ProgressListener;
    /** The backend that holds the run's migration lock: every file must run there (a transaction-mode pooler would move it). */
    sessionPid?: number;
    /** Aborted by an interrupt: no further statement starts, and a transaction file does not commit. */
    signal?: AbortSignal;
  }) {
    this.#client = options.client;
    this.#schema = options.schema;
    this.#tracking = options.tracking;
    this.#ddlLockTimeoutMs = options.ddlLockTimeoutMs;
    this.#onComplete = options.onComplete;
    this.#onProgress = options.onProgress ?? (() => undefined);
    this.#sessionPid = options.sessionPid;
    this.#signal = options.signal;
  }

  /** The statements that precede a file, for `--dry-run` and for execution. */
  preamble(transaction: boolean): Promise<string> {
    const scope = transaction ? 'SET LOCAL' : 'SET';
    // standard_conforming_strings on: how authdb's parser reads the file (a database
    // default of off would make the server read string literals differently).
    return Promise.resolve(
      `${scope} search_path TO ${this.#searchPath().join(', ')};\n${scope} lock_timeout = ${this.#ddlLockTimeoutMs};\n` +
        `${scope} standard_conforming_strings = on;\n`,
    );
  }

  /**
   * Parses the files `run` will run, so that a syntax error or a forbidden
   * statement in any of them stops the run before its first statement.
   */
  async prepare(files: readonly MigrationFile[], direction: Direction): Promise<void> {
    for (const script of await prepareScripts(files.map((f) => sourceOf(f, direction)))) this.#scripts.set(script.path, script);
    const { rows } = await this.#client.query<{ encoding: string }>("SELECT pg_catalog.current_setting('server_encoding') AS encoding");
    this.#positions = rows[0]?.encoding === 'SQL_ASCII' ? 'bytes' : 'characters';
  }

  /** Body of an umzug migration: runs one file, leaving its transaction open for the tracking row. */
  async run(file: MigrationFile, direction: Direction): Promise<void> {
    const source = sourceOf(file, direction);
    const script = this.#scripts.get(source.path) ?? (await prepareScripts([source]))[0];
    if (!script) throw new Error(`internal error: ${source.path} was not prepared`);
    const { path, transaction } = script;
    const searchPath = transaction ? undefined : await this.#sessionSearchPath();
    this.#current = { file, direction, path, transaction, startedAt: performance.now(), ...(searchPath !== undefined && { searchPath }) };
    // `SET client_encoding` is refused by the parse; set_config or a DO block can still change it, which the server
    // reports at the end of each round trip. Each file starts as UTF8 with standard_conforming_strings on (its preamble).
    const connection = (this.#client as Partial<Pick<Client, 'connection'>>).connection;
    this.#reading.clear();
    connection?.on('parameterStatus', this.#watchReading);
    try {
      if (transaction) await this.#client.query('BEGIN');
      // Inside the transaction, which a pooler cannot split: checked once, it holds for the whole file.
      await this.#expectSession(`before ${path}`, `Nothing of ${path} ran; the migrations this run reported as applied before it were applied in the session that holds the lock.`);
      await this.#client.query(await this.preamble(transaction));
      if (transaction) await this.#runInTransaction(script);
      else await this.#runStatements(script);
    } catch (error) {
      await this.#finishAfterFailure();
      throw await this.#explain(error, transaction);
    } finally {
      connection?.off('parameterStatus', this.#watchReading);
    }
  }

  async executed(): Promise<string[]> {
    return (await this.#tracking.applied()).map((m) => m.name);
  }

  async logMigration({ name }: { name: string }): Promise<void> {
    const current = this.#expect(name, 'up');
    await this.#record(() => this.#tracking.insert(name, current.file.source, current.file.checksum, performance.now() - current.startedAt));
  }

  async unlogMigration({ name }: { name: string }): Promise<void> {
    this.#expect(name, 'down');
    await this.#record(() => this.#tracking.delete(name));
  }

  /**
   * The statements in pipelines of up to {@link PIPELINE_STATEMENTS} (one
   * round trip each), inside the transaction `run` opened. Each is still its
   * own Parse message, so the server runs exactly the statements the parse
   * found; a failure is located at the statement the server stopped at.
   */
  async #runInTransaction(script: MigrationScript): Promise<void> {
    const { statements } = script;
    for (let from = 0; from < statements.length; ) {
      const batch = pipelineFrom(statements, from);
      const first = batch[0];
      if (this.#signal?.aborted && first) throw new StoppedBetweenStatements(script.path, first.line);
      const sent = guarded(script, batch);
      try {
        await runPipeline(this.#client, sent.map((s) => s.text), sent.some((s) => s.text === PREPARED) ? READING_GUARD : undefined);
      } catch (error) {
        if (!(error instanceof PipelineStopped)) throw error;
        const failed = sent[error.completed] ?? sent[0];
        // The guard fails with 22P02 when the reading changed (anything else: say what the server said, at the statement it guarded).
        if (failed?.guard && (error.error as { code?: unknown }).code === '22P02') {
          this.#refuseChangedReading(script, failed.statement, `a statement before this one (from line ${first?.line ?? 1})`, true);
        }
        throw failed ? toStatementError(error.error, script, failed.statement, this.#positions) : error.error;
      }
      const last = batch.at(-1);
      if (first && last) this.#refuseChangedReading(script, first, `one of the statements from line ${first.line} to line ${last.line}`);
      from += batch.length;
      this.#onProgress(from, statements.length);
    }
    // An interrupt during the last statement that the server did not cancel: roll back rather than commit.
    if (this.#signal?.aborted) throw new StoppedBetweenStatements(script.path);
    if (this.#client.getTransactionStatus() === 'I') {
      // Top-level COMMIT/ROLLBACK is refused by the parse; this is a last line of defence.
      throw new MigrationSqlError({
        file: script.path,
        serverMessage:
          'the file ended the transaction authdb runs it in, so the migration cannot be recorded atomically and statements ' +
          'before that point may be committed; remove the statement that ends it, or start the file with "-- authdb:no-transaction"',
      });
    }
  }

  /**
   * Each statement on its own, in autocommit mode (a multi-statement query
   * would be one implicit transaction). When one fails, the error says which
   * completed (and stay) and names the INVALID index a failed
   * `CREATE INDEX CONCURRENTLY` leaves behind.
   */
  async #runStatements(script: MigrationScript): Promise<void> {
    const direction = this.#current?.direction ?? 'up';
    for (const statement of script.statements) {
      try {
        if (statement.index > 0) this.#refuseChangedReading(script, statement, 'the statement before this one');
        await this.#runStatement(script, statement);
        await this.#expectSession(`after ${script.path}:${statement.line}`, movedSessionOutcome(script, statement, direction));
        this.#onProgress(statement.index + 1, script.statements.length);
      } catch (error) {
        // The session is gone: the server cannot be asked what the statement left.
        if (isConnectionLoss(error)) throw new LostDuringStatement(script.path, statement.line, possibleLeftoverIndex(this.#schema, statement), error);
        if (!(error instanceof MigrationSqlError)) throw error;
        const leftover = await leftoverIndexReport(this.#client, this.#schema, statement).catch(() => undefined);
        throw withExplanation(error, { outcome: [halfwayOutcome(script, statement, direction), leftover].filter(Boolean).join('\n') });
      }
    }
  }

  /**
   * The seam every statement goes through: runs one statement and, when the
   * server refuses it, throws a {@link MigrationSqlError} located at its
   * file:line:column (other errors, such as a lost connection, pass through).
   */
  async #runStatement(script: MigrationScript, statement: ScriptStatement): Promise<void> {
    if (this.#signal?.aborted) throw new StoppedBetweenStatements(script.path, statement.line);
    try {
      // The extended protocol runs exactly one statement: if the server splits the text
      // differently from our parser (say, a file turned standard_conforming_strings off),
      // a hidden COMMIT cannot run; the server refuses the statement instead (42601).
      const query: QueryConfig & { readonly queryMode: 'extended' } = { text: statementText(script.source, statement), queryMode: 'extended' };
      await this.#client.query(query);
    } catch (error) {
      throw toStatementError(error, script, statement, this.#positions);
    }
  }

  /**
   * Fails, located at `at`, when a statement (`which`) changed how the server
   * reads statements: as the server reported it, or as a guard found it
   * (`guard`: the value is not known here, only that it differs).
   */
  #refuseChangedReading(script: MigrationScript, at: ScriptStatement, which: string, guard = false): void {
    const changed = guard
      ? 'client_encoding or standard_conforming_strings'
      : Object.entries(READING_SETTINGS).flatMap(([name, expected]) => {
          const value = this.#reading.get(name);
          return value === undefined || value === expected ? [] : [`${name} to ${value}`];
        })[0];
    if (changed === undefined) return;
    const { line, column } = script.source.lines.position(at.start);
    throw new MigrationSqlError({
      file: script.path,
      line,
      column,
      serverMessage: readingChangeMessage(`${which} changed ${changed} (set_config, RESET, or SET in a function or DO block)`),
    });
  }

  /** Fails when the next statement does not run in the backend that holds the run's lock. */
  async #expectSession(where: string, outcome: string): Promise<void> {
    if (this.#sessionPid !== undefined) await expectBackend(this.#client, this.#sessionPid, { where, outcome });
  }

  /** Adds what only the server can tell once the migration ended (the source of a statement_timeout). */
  async #explain(error: unknown, transaction: boolean): Promise<unknown> {
    if (!(error instanceof MigrationSqlError)) return error;
    const hint =
      (await statementTimeoutHint(this.#client, error.location, transaction).catch(() => undefined)) ??
      (await extensionHint(this.#client, error.location, this.#schema).catch(() => undefined));
    const outcome = transaction ? 'The migration was rolled back: nothing of this file was kept, and it was not recorded as applied.' : undefined;
    return hint === undefined && outcome === undefined ? error : withExplanation(error, { ...(hint && { hint }), ...(outcome && { outcome }) });
  }

  async #record(write: () => Promise<void>): Promise<void> {
    const current = this.#current;
    try {
      // After the file's statements come authdb's own round trips (default privileges taken back, the
      // history row): a cancel that lands between them is not acted on, so look before each and COMMIT.
      this.#stopIfInterrupted(current);
      await write();
      this.#stopIfInterrupted(current);
    } catch (error) {
      await this.#finishAfterFailure();
      throw current ? toTrackingError(error, current.path, current.transaction) : error;
    }
    await this.#finish(true);
    if (current) this.#onComplete(current.file.name, current.direction, performance.now() - current.startedAt);
  }

  /** An interrupt came: a transaction file rolls back rather than commit (a no-transaction file's statements are kept anyway). */
  #stopIfInterrupted(current: RunningMigration | undefined): void {
    if (current?.transaction && this.#signal?.aborted) throw new StoppedBetweenStatements(current.path);
  }

  async #finish(success: boolean): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    if (current.transaction) await this.#client.query(success ? 'COMMIT' : 'ROLLBACK');
    else {
      // Back to the session's own search_path (authdb's sessions: pg_catalog, pg_temp), not the server default.
      await this.#client.query('SELECT pg_catalog.set_config($1::pg_catalog.text, $2::pg_catalog.text, false)', ['search_path', current.searchPath ?? '']);
      await this.#client.query('RESET lock_timeout; RESET standard_conforming_strings; RESET client_encoding');
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
