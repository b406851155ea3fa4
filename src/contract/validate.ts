import { join } from 'node:path';
import type { ClientBase } from 'pg';
import { MigrationFileError, MigrationSourceError } from '../migrate/errors.js';
import { AUTHDB_SOURCE, type MigrationFile, type MigrationSourceSpec } from '../migrate/migration-file.js';
import { loadSources } from '../migrate/migration-source.js';
import { migrationStatus } from '../migrate/plan.js';
import { TRACKING_TABLE, TrackingTable, type AppliedMigration } from '../migrate/tracking-table.js';
import { compareCodeUnits } from './canonical-json.js';

/**
 * What `migrate validate` can find:
 * `changed` an applied migration's up file was edited;
 * `missing-file` an applied migration's file was deleted or renamed;
 * `unknown` the tracking table names a migration newer than every file;
 * `out-of-order` a pending migration sorts before an applied one of its source;
 * `invalid-file` the directory holds a misnamed or unpaired file.
 */
export type FindingKind = 'changed' | 'missing-file' | 'unknown' | 'out-of-order' | 'invalid-file';

export interface ValidationFinding {
  readonly kind: FindingKind;
  /** The migration concerned; absent for `invalid-file`. */
  readonly name?: string;
  /** One line saying what is wrong and what to do. */
  readonly message: string;
}

export interface ValidateOptions {
  /** A connected client; only reads the tracking table. */
  readonly client: ClientBase;
  readonly schema: string;
  /** authdb's migrations. */
  readonly migrationsDir: string;
  /** The application's migration directories. Default is none. */
  readonly applicationSources?: readonly MigrationSourceSpec[];
}

/**
 * Checks the migration history of a database against the files. Line-ending
 * changes (CRLF/LF) are not changes: checksums are computed on LF text.
 *
 * @example
 * const findings = await validateMigrations({ client, schema: 'public', migrationsDir: 'migrations' });
 * for (const f of findings) console.error(f.message);
 */
export async function validateMigrations(options: ValidateOptions): Promise<ValidationFinding[]> {
  const applied = await new TrackingTable(options.client, options.schema).applied();
  const sources = [{ name: AUTHDB_SOURCE, dir: options.migrationsDir }, ...(options.applicationSources ?? [])];
  let files: readonly MigrationFile[];
  try {
    files = await loadSources(sources);
  } catch (error) {
    if (error instanceof MigrationFileError) return error.problems.map((problem) => ({ kind: 'invalid-file', message: problem }));
    if (!(error instanceof MigrationSourceError)) throw error;
    return error.problems.map((problem) => ({ kind: 'invalid-file', message: `${problem}; fix the file name (NAME.up.sql and NAME.down.sql, NAME = 14-digit timestamp + "_" + lowercase words) or move it out of the directory` }));
  }
  return validateHistory(files, applied, { sources, table: `${options.schema}.${TRACKING_TABLE}` });
}

/** The pure part of {@link validateMigrations}: files and tracking rows in, findings out (by migration name). */
export function validateHistory(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  where: { readonly sources: readonly MigrationSourceSpec[]; readonly table: string },
): ValidationFinding[] {
  const statuses = migrationStatus(files, applied, where.sources.map((s) => s.name));
  const fileByName = new Map(files.map((f) => [f.name, f]));
  const newestFileOf = (source: string): string => files.filter((f) => f.source === source).map((f) => f.name).sort(compareCodeUnits).at(-1) ?? '';
  const dirOf = (source: string): string => where.sources.find((s) => s.name === source)?.dir ?? '?';
  const findings: ValidationFinding[] = [];
  for (const s of statuses) {
    const when = s.appliedAt ? `applied at ${s.appliedAt.toISOString()}` : '';
    const file = fileByName.get(s.name);
    const newestFile = newestFileOf(s.source);
    const dir = dirOf(s.source);
    if (s.state === 'changed' && file) {
      findings.push({
        kind: 'changed',
        name: s.name,
        message: `${s.name}: ${file.upPath} changed after it was ${when} (checksum now ${file.checksum.slice(0, 12)}…, recorded ${s.checksum.slice(0, 12)}…); applied history is immutable: restore the file as it was applied and put the change in a new migration (authdb migrate create)`,
      });
    } else if (s.state === 'missing' && compareCodeUnits(s.name, newestFile) > 0) {
      findings.push({
        kind: 'unknown',
        name: s.name,
        message: `${s.name}: ${where.table} records it (${when}, source "${s.source}") but ${dir} has no such migration, and it is newer than every file there: the database was migrated by a newer release or another branch; deploy that code, or revert the migration with its down file and delete its row`,
      });
    } else if (s.state === 'missing') {
      findings.push({
        kind: 'missing-file',
        name: s.name,
        message: `${s.name}: ${when} but ${join(dir, `${s.name}.up.sql`)} no longer exists (deleted or renamed); restore the file (applied history is immutable) and undo its effects with a new migration if needed`,
      });
    } else if (s.state === 'out-of-order') {
      const newestApplied = s.after ?? '?';
      findings.push({
        kind: 'out-of-order',
        name: s.name,
        message: `${s.name}: not applied, but sorts before ${newestApplied}, which is applied in source "${s.source}" (probably merged from a branch after ${newestApplied} was deployed); give it a timestamp after ${newestApplied} by renaming both files (authdb migrate create prints a current one) so every database applies migrations in the same order, or apply it as it is with \`authdb migrate up --allow-out-of-order\``,
      });
    }
  }
  return findings;
}
