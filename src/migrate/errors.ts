/** Stable codes of the errors the migration engine raises. */
export type MigrationErrorCode =
  | 'AUTHDB_MIGRATIONS_DIR'
  | 'AUTHDB_HISTORY'
  | 'AUTHDB_MIGRATION_FILE'
  | 'AUTHDB_SQL'
  | 'AUTHDB_LOCK_TIMEOUT'
  | 'AUTHDB_PLAN'
  | 'AUTHDB_OUT_OF_ORDER'
  | 'AUTHDB_INTERRUPTED'
  | 'AUTHDB_CONNECTION_LOST'
  | 'AUTHDB_UNSTABLE_SESSION'
  | 'AUTHDB_SETUP'
  | 'AUTHDB_DOWN_DATA'
  | 'AUTHDB_SECOND_INSTALL'
  | 'AUTHDB_EXISTING_OBJECTS'
  | 'AUTHDB_BASELINE_DRIFT'
  | 'AUTHDB_EXPORT'
  | 'AUTHDB_STANDBY'
  | 'AUTHDB_STATEMENT_TIMEOUT';

/** Base class of every error the migration engine raises on purpose. */
export class MigrationError extends Error {
  readonly code: MigrationErrorCode;

  constructor(code: MigrationErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The migrations directory cannot be read, or holds misnamed or unpaired files. */
export class MigrationSourceError extends MigrationError {
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[], options?: ErrorOptions) {
    super('AUTHDB_MIGRATIONS_DIR', [message, ...problems.map((p) => `  ${p}`)].join('\n'), options);
    this.problems = problems;
  }
}

/**
 * Migration files that cannot run: not UTF-8, a NUL byte, a syntax error, or
 * transaction control in a file authdb runs in its own transaction. Found by
 * reading and parsing every file of the run before its first statement runs.
 */
export class MigrationFileError extends MigrationError {
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[]) {
    super('AUTHDB_MIGRATION_FILE', [message, ...problems.map((p) => `  ${p}`)].join('\n'));
    this.problems = problems;
  }
}

/** An applied migration's up file was edited or removed since it was applied. */
export class MigrationHistoryError extends MigrationError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      'AUTHDB_HISTORY',
      [
        'applied migrations no longer match their files; refusing to continue:',
        ...problems.map((p) => `  ${p}`),
        'Restore the original files (applied history is immutable) and add a new migration for the change.',
      ].join('\n'),
    );
    this.problems = problems;
  }
}

/** Where in a migration file the server reported an error, and what it said. */
export interface SqlErrorLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly sqlState?: string;
  readonly serverMessage: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly where?: string;
  /** The offending line with a caret under the column. */
  readonly snippet?: string;
  /** What of the migration was kept and what was not, and what to clean up. */
  readonly outcome?: string;
}

/** A statement in a migration file failed; nothing of that migration was kept. */
export class MigrationSqlError extends MigrationError {
  readonly location: SqlErrorLocation;

  constructor(location: SqlErrorLocation, options?: ErrorOptions) {
    super('AUTHDB_SQL', formatSqlError(location), options);
    this.location = location;
  }
}

/** Another process held the migration lock longer than the lock timeout. */
export class LockTimeoutError extends MigrationError {
  constructor(message: string) {
    super('AUTHDB_LOCK_TIMEOUT', message);
  }
}

/** The requested plan is impossible (unknown `--to` name, nothing to roll back to…). */
export class MigrationPlanError extends MigrationError {
  constructor(message: string) {
    super('AUTHDB_PLAN', message);
  }
}

/** Pending migrations older than an applied migration of the same source, refused without `--allow-out-of-order`. */
export class MigrationOrderError extends MigrationError {
  /** Each pending migration with the newer applied one of its source. */
  readonly outOfOrder: readonly { readonly name: string; readonly source: string; readonly after: string }[];

  constructor(outOfOrder: MigrationOrderError['outOfOrder']) {
    super(
      'AUTHDB_OUT_OF_ORDER',
      [
        'pending migrations sort before a migration of their source that is already applied; nothing was run:',
        ...outOfOrder.map((m) => `  ${m.name} (source "${m.source}") is pending, but ${m.after} is applied`),
        'Databases migrated before and after this one would apply them in different orders. Rename the pending pair (both',
        'files) to a timestamp after the applied one (authdb migrate create prints a current one), or, once you have checked',
        'that it does not depend on the order, apply it as it is with --allow-out-of-order.',
      ].join('\n'),
    );
    this.outOfOrder = outOfOrder;
  }
}

function formatSqlError(l: SqlErrorLocation): string {
  const where = l.line === undefined ? l.file : `${l.file}:${l.line}:${l.column ?? 1}`;
  return [
    `${where}: ${l.sqlState ? `SQLSTATE ${l.sqlState}: ` : ''}${l.serverMessage}`,
    l.snippet,
    l.detail && `DETAIL: ${l.detail}`,
    l.hint && `HINT: ${l.hint}`,
    l.where && `CONTEXT: ${l.where}`,
    l.outcome,
  ]
    .filter((part): part is string => Boolean(part))
    .join('\n');
}
