import { escapeIdentifier } from 'pg';
import { MigrationError } from '../migrate/errors.js';
import { AUTHDB_SOURCE, parseDirectives, type MigrationFile } from '../migrate/migration-file.js';
import { prepareScripts, type MigrationScript } from '../migrate/migration-script.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from '../migrate/migration-source.js';
import { DEFAULT_DDL_LOCK_TIMEOUT_MS } from '../migrate/migrator.js';
import { GUARD_ARGUMENTS, GUARD_FUNCTION, guardCallSql, guardFunctionSql } from './supabase-guard.js';
import { writeNewFiles, type OutputFile, type WriteOutcome } from './write-files.js';

/** Where `authdb export supabase` writes by default: a Supabase project's migrations. */
export const DEFAULT_SUPABASE_MIGRATIONS_DIR = 'supabase/migrations';

export interface SupabaseExportOptions {
  /** The schema the migrations install into (as `--schema` of every other command). */
  readonly schema: string;
  /** authdb's migrations. Default is the package's `migrations/`. */
  readonly migrationsDir?: string | undefined;
}

/** The version `supabase db push` reads from a migration file's name: its leading digits. */
export function supabaseVersion(fileName: string): string | undefined {
  return /^(\d+)_.*\.sql$/.exec(fileName)?.[1];
}

/**
 * authdb's up migrations as Supabase CLI migration files, in order:
 * `<name>.sql` (its 14-digit version kept, so a later export adds only new
 * files), each carrying in its SQL what `authdb migrate up` does around it
 * ({@link guardFunctionSql}) and recording it in `authdb_migrations` with the
 * name, source and checksum the engine records. Deterministic: the same
 * migrations and schema give the same bytes. Every file is parsed first, as
 * the engine does; a file that cannot run in one transaction is refused.
 */
export async function renderSupabaseMigrations(options: SupabaseExportOptions): Promise<OutputFile[]> {
  const files = await loadMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR, AUTHDB_SOURCE);
  const scripts = await prepareScripts(files.map((f) => f.up));
  const problems = scripts.flatMap(exportProblem);
  if (problems.length > 0) throw new MigrationError('AUTHDB_EXPORT', ['migrations that cannot be exported for supabase db push; nothing was written:', ...problems.map((p) => `  ${p}`)].join('\n'));
  const guard = guardFunctionSql(options.schema);
  return files.map((file, i) => ({ name: `${file.name}.sql`, content: supabaseFile(file, options.schema, guard, scripts[i]) }));
}

/** Renders the files and writes those not yet in `outDir`, all or none (see {@link writeNewFiles}). */
export async function exportSupabaseMigrations(outDir: string, options: SupabaseExportOptions): Promise<WriteOutcome> {
  return writeNewFiles(outDir, await renderSupabaseMigrations(options), supabaseVersion);
}

/** Why a parsed up file cannot be one statement list of one transaction, if it cannot. */
function exportProblem(script: MigrationScript): string[] {
  if (!parseDirectives(script.source.text).transaction && transactionalText(script) === undefined) {
    return [
      `${script.path}: starts with "-- authdb:no-transaction" and runs statements other than CREATE/DROP INDEX CONCURRENTLY, ` +
        'while supabase db push runs every file in one transaction; apply it with authdb migrate up',
    ];
  }
  const last = script.statements.at(-1);
  // A last statement without ";" would run together with the statement the export appends.
  if (last !== undefined && script.source.bytes[last.end] !== 0x3b) return [`${script.path}:${last.line}: its last statement does not end with ";"`];
  return [];
}

/** `CREATE [UNIQUE] INDEX CONCURRENTLY` or `DROP INDEX CONCURRENTLY`, up to the keyword. */
const CONCURRENT_INDEX = /^((?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\s+)CONCURRENTLY\s+/i;

/**
 * A no-transaction file whose every statement is `CREATE`/`DROP INDEX
 * CONCURRENTLY` (the only reason authdb's own migrations run outside a
 * transaction), with CONCURRENTLY taken out so that it runs inside one: the
 * index built is the same, but the build blocks writes to its table. Undefined
 * for any other file.
 */
function transactionalText(script: MigrationScript): string | undefined {
  const { bytes } = script.source;
  let text = '';
  let at = 0;
  for (const statement of script.statements) {
    const sql = bytes.subarray(statement.start, statement.end).toString('utf8');
    if (!CONCURRENT_INDEX.test(sql)) return undefined;
    text += bytes.subarray(at, statement.start).toString('utf8') + sql.replace(CONCURRENT_INDEX, '$1');
    at = statement.end;
  }
  return text + bytes.subarray(at).toString('utf8');
}

/** The up file's text as the exported file runs it, and what the export changed, if anything. */
function exportedText(file: MigrationFile, script: MigrationScript | undefined): { readonly text: string; readonly note: string } {
  const rewritten = script && !parseDirectives(script.source.text).transaction ? transactionalText(script) : undefined;
  if (rewritten === undefined) return { text: file.up.text, note: 'unchanged' };
  return { text: rewritten, note: 'with CONCURRENTLY taken out: supabase db push runs it in one transaction, so the index build blocks writes to its table' };
}

function supabaseFile(file: MigrationFile, schema: string, guard: string, script: MigrationScript | undefined): string {
  const call = (step: 'before' | 'ready' | 'after'): string => guardCallSql(step, schema, file.name, file.source, file.checksum);
  const exported = exportedText(file, script);
  const text = exported.text.endsWith('\n') ? exported.text : `${exported.text}\n`;
  return `-- ${file.name}.sql: authdb's migration ${file.name}, for supabase db push (schema ${schema}).
-- Written by authdb export supabase; do not edit it: authdb records the checksum of
-- ${file.name}.up.sql (${file.checksum}),
-- and authdb migrate validate and schema check compare the database with it.
--
-- supabase db push runs each file in one transaction (run it by hand only as
-- psql --single-transaction -v ON_ERROR_STOP=1 -f FILE). Around the migration this file does
-- what authdb migrate up does: it takes the schema's migration lock, refuses a schema that
-- another role controls, creates the schema and authdb_migrations when missing, sets the
-- search_path the migration's functions capture, takes back what default privileges
-- (ALTER DEFAULT PRIVILEGES ... TO anon, authenticated, service_role) gave on what it
-- created, grants nothing, and records the migration as authdb migrate up does. Give a
-- role the API with authdb grant --role service_role --schema ${schema}.

${guard}

${call('before')}
SET LOCAL search_path TO ${escapeIdentifier(schema)}, pg_temp;
SET LOCAL lock_timeout = ${DEFAULT_DDL_LOCK_TIMEOUT_MS};
SET LOCAL standard_conforming_strings = on;
${call('ready')}

-- ---------------------------------------------------------------------------
-- ${file.name}.up.sql, ${exported.note}
-- ---------------------------------------------------------------------------
${text}-- ---------------------------------------------------------------------------
-- end of ${file.name}.up.sql
-- ---------------------------------------------------------------------------

${call('after')}
DROP FUNCTION ${GUARD_FUNCTION}${GUARD_ARGUMENTS};
`;
}
