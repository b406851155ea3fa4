import type { CommandEntry } from './command.js';

/**
 * Every command, in the order `authdb --help` lists them. Each module is
 * imported on dispatch: a command pays for the dependencies it uses, and
 * the listing for none.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'migrate up', summary: 'apply pending migrations', load: async () => (await import('./migrate-up.js')).migrateUp },
  { name: 'migrate down', summary: 'revert applied migrations (default: the latest one)', load: async () => (await import('./migrate-down.js')).migrateDown },
  { name: 'migrate status', summary: 'show applied, pending, changed and missing migrations', load: async () => (await import('./migrate-status.js')).migrateStatus },
  { name: 'migrate create', summary: 'write a new up/down migration pair', load: async () => (await import('./migrate-create.js')).migrateCreate },
  {
    name: 'migrate validate',
    summary: 'check applied migrations against the files; exit 1 on any problem',
    load: async () => (await import('./migrate-validate.js')).migrateValidate,
  },
  {
    name: 'migrate verify-reversible',
    summary: 'prove every down migration undoes its up migration, on a scratch database',
    load: async () => (await import('./migrate-verify-reversible.js')).migrateVerifyReversible,
  },
  {
    name: 'migrate baseline',
    summary: "record authdb's migrations as applied on a schema proved to hold exactly what they create",
    load: async () => (await import('./migrate-baseline.js')).migrateBaseline,
  },
  { name: 'schema dump', summary: 'write the schema contract: a canonical JSON snapshot of the schema', load: async () => (await import('./schema.js')).schemaDump },
  { name: 'schema check', summary: 'compare the schema with its contract; exit 1 on drift', load: async () => (await import('./schema.js')).schemaCheck },
  { name: 'lint', summary: 'check migration SQL for unsafe or risky statements', load: async () => (await import('./lint.js')).lint },
  { name: 'db', summary: 'start, stop and inspect the embedded PostgreSQL 17 cluster', load: async () => (await import('./db.js')).db },
  { name: 'codegen', summary: 'generate (or --check) the Kysely types of the authdb tables', load: async () => (await import('./codegen.js')).codegen },
  {
    name: 'grant',
    summary: 'give an application role USAGE on the schema and EXECUTE on the API functions (or --revoke)',
    load: async () => (await import('./grant.js')).grant,
  },
  {
    name: 'export supabase',
    summary: "write authdb's migrations as Supabase CLI migrations (supabase db push)",
    load: async () => (await import('./export-supabase.js')).exportSupabase,
  },
  { name: 'config', summary: 'print every effective project setting and where it comes from', load: async () => (await import('./config.js')).config },
];
