import type { ClientBase } from 'pg';
import type { SqlErrorLocation } from './errors.js';

/** SQLSTATEs of `type "x" does not exist` and `extension "x" already exists`. */
const UNDEFINED_OBJECT = '42704';
const DUPLICATE_OBJECT = '42710';

const MISSING_TYPE = /^type "([^"]+)" does not exist$/;
const EXISTING_EXTENSION = /^extension "([^"]+)" already exists$/;

interface Owner {
  readonly extension: string;
  readonly schema: string;
}

/**
 * Where an extension lives when a migration run with `--schema` misses it:
 * an extension is installed once per database, in one schema
 * (pg_extension.extnamespace), and the engine runs files with
 * search_path = <target schema>, pg_temp, so a type a first install's
 * CREATE EXTENSION put in one schema is not found by name from another
 * (and CREATE EXTENSION IF NOT EXISTS there does nothing). Runs after the
 * file's transaction ended. Undefined when the error is not of that kind.
 */
export async function extensionHint(client: ClientBase, error: Pick<SqlErrorLocation, 'sqlState' | 'serverMessage'>, schema: string): Promise<string | undefined> {
  const path = `search_path = ${client.escapeIdentifier(schema)}, pg_temp`;
  const type = error.sqlState === UNDEFINED_OBJECT ? MISSING_TYPE.exec(error.serverMessage)?.[1] : undefined;
  if (type !== undefined) {
    const owners = await typeOwners(client, type);
    if (owners.length > 0) {
      const where = owners.map((o) => `extension ${o.extension} in schema ${client.escapeIdentifier(o.schema)}`).join(', ');
      const first = owners[0] as Owner;
      return (
        `type "${type}" exists, created by ${where} (pg_extension.extnamespace): an extension is installed once per database, in one schema, ` +
        `and authdb runs migration files with ${path}, so the name is not found from here (CREATE EXTENSION IF NOT EXISTS does nothing when it is installed elsewhere). ` +
        `Qualify the name (${client.escapeIdentifier(first.schema)}.${type}), or install the extension in a schema every install can reach ` +
        `(CREATE EXTENSION ${first.extension} WITH SCHEMA extensions, by its owner) and qualify it with that schema`
      );
    }
    const available = await availableExtension(client, type);
    if (available) {
      return `no installed extension provides type "${type}", but extension ${available} is available: add "CREATE EXTENSION IF NOT EXISTS ${available} WITH SCHEMA <schema>;" before its first use (this file runs with ${path})`;
    }
    return undefined;
  }
  const extension = error.sqlState === DUPLICATE_OBJECT ? EXISTING_EXTENSION.exec(error.serverMessage)?.[1] : undefined;
  if (extension === undefined) return undefined;
  const { rows } = await client.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`,
    [extension],
  );
  const [row] = rows;
  if (!row) return undefined;
  return (
    `extension ${extension} is already installed in this database, in schema ${client.escapeIdentifier(row.schema)} (an extension is installed once per database): ` +
    `use CREATE EXTENSION IF NOT EXISTS ${extension}, and qualify its objects with ${client.escapeIdentifier(row.schema)} (this file runs with ${path})`
  );
}

/** The extensions (and their schemas) whose member types are named `type`. */
async function typeOwners(client: ClientBase, type: string): Promise<Owner[]> {
  const { rows } = await client.query<Owner>(
    `SELECT e.extname AS extension, n.nspname AS schema
       FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid AND d.deptype = 'e'
       JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
       JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
      WHERE t.typname = $1
      ORDER BY n.nspname`,
    [type],
  );
  return rows;
}

async function availableExtension(client: ClientBase, name: string): Promise<string | undefined> {
  const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_catalog.pg_available_extensions WHERE name = $1 AND installed_version IS NULL', [name]);
  return rows[0]?.name;
}
