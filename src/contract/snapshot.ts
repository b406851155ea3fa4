import type { ClientBase } from 'pg';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import { readCatalog, type CatalogRows, type RelationRow } from './catalog-queries.js';
import { canonicalJson, compareCodeUnits, isObject, type Json } from './canonical-json.js';
import { ContractError } from './errors.js';
import { buildObjects, referenceOwner, type SnapshotObject } from './snapshot-objects.js';

export { OWNER_PLACEHOLDER, SCHEMA_KEY, SCHEMA_PLACEHOLDER, type SnapshotObject } from './snapshot-objects.js';

/** `format` of every snapshot this version writes and reads. */
export const CONTRACT_FORMAT = 'authdb-contract/1';
/** How long the snapshot waits for a lock (reading the seed tables) before failing. */
export const SNAPSHOT_LOCK_TIMEOUT = '10s';
/** Tables whose rows are part of the contract. Default is the seeded `roles`. */
export const DEFAULT_SEED_TABLES: readonly string[] = ['roles'];

/**
 * A canonical description of one schema: every object under a key
 * `<kind> <name>` (`table users`, `column users.email`,
 * `function verify_email(text)`, `row roles (name)=(user)`…).
 */
export interface Snapshot {
  readonly format: typeof CONTRACT_FORMAT;
  readonly objects: { readonly [key: string]: SnapshotObject };
}

export interface SnapshotOptions {
  /** Schema to describe. Default is `public`. */
  readonly schema?: string;
  /** Tables whose rows are recorded. Default is {@link DEFAULT_SEED_TABLES}. */
  readonly seedTables?: readonly string[];
  /** A missing schema is an error (`'error'`, the default) or an empty snapshot (`'empty'`). */
  readonly missingSchema?: 'error' | 'empty';
}

/**
 * Describes a schema as it is now. Runs in one `READ ONLY`, `REPEATABLE READ`
 * transaction (a consistent view, and the server refuses any write), with
 * `search_path` set to `pg_catalog`, then the schema (so deparsed definitions name its objects unqualified), and a {@link SNAPSHOT_LOCK_TIMEOUT} lock
 * timeout. `client` must not be inside a transaction.
 *
 * @example
 * const snapshot = await takeSnapshot(client, { schema: 'authdb' });
 * await writeFile('schema/contract.json', serializeSnapshot(snapshot));
 */
export async function takeSnapshot(client: ClientBase, options: SnapshotOptions = {}): Promise<Snapshot> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`SET LOCAL search_path TO pg_catalog, ${client.escapeIdentifier(schema)}; SET LOCAL lock_timeout = '${SNAPSHOT_LOCK_TIMEOUT}'`);
    const { rows } = await client.query<{ oid: string | null; quoted: string; database: string }>(
      // The exact name: to_regnamespace('MyAuth') would fold it to "myauth".
      `SELECT (SELECT n.oid::text FROM pg_catalog.pg_namespace AS n WHERE n.nspname OPERATOR(pg_catalog.=) $1::pg_catalog.name) AS oid,
              pg_catalog.quote_ident($1::text) AS quoted, pg_catalog.current_database() AS database`,
      [schema],
    );
    const namespace = rows[0];
    if (!namespace?.oid) {
      if (options.missingSchema === 'empty') return { format: CONTRACT_FORMAT, objects: {} };
      throw new ContractError(
        'AUTHDB_SCHEMA_NOT_FOUND',
        `schema "${schema}" does not exist in database "${namespace?.database ?? '?'}"; check --schema and the connection, or run \`authdb migrate up\` first`,
      );
    }
    const catalog = await readCatalog(client, namespace.oid);
    const objects = buildObjects(catalog, { quotedSchema: namespace.quoted, owner: referenceOwner(catalog) });
    for (const [key, row] of await readSeedRows(client, catalog, namespace.quoted, options.seedTables ?? DEFAULT_SEED_TABLES)) objects.set(key, row);
    return { format: CONTRACT_FORMAT, objects: Object.fromEntries([...objects].sort(([a], [b]) => compareCodeUnits(a, b))) };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** The snapshot as canonical JSON: sorted keys, one field per line, final newline. Same snapshot, same bytes. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return canonicalJson(snapshot as unknown as Json);
}

/** Reads a serialized snapshot; `source` names it in errors (a file path). */
export function parseSnapshot(text: string, source: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ContractError('AUTHDB_CONTRACT_FILE', `${source} is not valid JSON (${(error as Error).message}); regenerate it with \`authdb schema dump --out ${source}\``, { cause: error });
  }
  const json = value as Json;
  if (!isObject(json) || json.format !== CONTRACT_FORMAT || !isObject(json.objects) || !Object.values(json.objects).every(isObject)) {
    throw new ContractError(
      'AUTHDB_CONTRACT_FILE',
      `${source} is not an authdb contract (expected {"format": "${CONTRACT_FORMAT}", "objects": {…}}); regenerate it with \`authdb schema dump --out ${source}\``,
    );
  }
  return json as unknown as Snapshot;
}

/**
 * Rows of the seed tables, keyed by primary key: `row roles (name)=(user)`.
 * Date and time columns are left out: they record when a database was
 * migrated, not what the contract promises.
 */
async function readSeedRows(client: ClientBase, catalog: CatalogRows, quotedSchema: string, seedTables: readonly string[]): Promise<Map<string, SnapshotObject>> {
  const rows = new Map<string, SnapshotObject>();
  const tables = catalog.relations.filter((r) => (r.kind === 'r' || r.kind === 'p') && seedTables.includes(r.name));
  for (const table of tables) {
    const columns = catalog.columns.filter((c) => c.relid === table.oid && !TEMPORAL.test(c.type)).map((c) => c.name);
    const key = await primaryKey(client, table);
    const data = await client
      .query<{ row: Record<string, Json> }>(`SELECT pg_catalog.to_jsonb(t) AS row FROM ${quotedSchema}.${table.quoted} AS t`)
      .catch((error: unknown) => {
        throw new ContractError(
          'AUTHDB_SNAPSHOT',
          `cannot read the seeded rows of ${table.name}: ${(error as Error).message}; the contract includes them, so grant SELECT on ${table.quoted} to the role running this command`,
          { cause: error },
        );
      });
    for (const { row } of data.rows) {
      const values = Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
      const id = key.length > 0 ? `(${key.join(', ')})=(${key.map((c) => display(row[c] ?? null)).join(', ')})` : canonicalJson(values).replace(/\s+/g, ' ').trim();
      rows.set(`row ${table.name} ${id}`, values);
    }
  }
  return rows;
}

const TEMPORAL = /^(timestamp|time|date|interval)\b/;

async function primaryKey(client: ClientBase, table: RelationRow): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_constraint AS k, pg_catalog.unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
       JOIN pg_attribute AS a ON a.attnum = u.attnum
      WHERE k.conrelid = $1::oid AND k.contype = 'p' AND a.attrelid = k.conrelid
      ORDER BY u.ord`,
    [table.oid],
  );
  return rows.map((r) => r.name);
}

function display(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
