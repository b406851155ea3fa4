import type { ClientBase } from 'pg';
import { droppedData, key, seedRows, type DroppedData, type SeedRows } from './down-drops.js';
import { MigrationError } from './errors.js';
import type { MigrationFile } from './migration-file.js';

/** A table or column a down would drop, with the rows it holds beyond authdb's own seed rows. */
export interface DataAtRisk extends DroppedData {
  /** Rows (for a column: rows with a non-NULL value) that are not seed rows of the up files. */
  readonly rows: number;
}

/**
 * What the down files of `plan` would drop that holds data. Seed rows (the
 * constant `INSERT … VALUES` rows of any up file, compared on the columns it
 * inserts) do not count: an install nobody used can be reverted without
 * `--force`. A table or column that does not exist counts as empty.
 */
export async function dataAtRisk(client: ClientBase, all: readonly MigrationFile[], plan: readonly MigrationFile[], schema: string): Promise<DataAtRisk[]> {
  const drops = await droppedData(plan, schema);
  if (drops.length === 0) return [];
  const seeds = await seedRows(all, schema);
  const found: DataAtRisk[] = [];
  for (const drop of drops) {
    const rows = await countRows(client, drop, seeds.get(key(drop)));
    if (rows > 0) found.push({ ...drop, rows });
  }
  return found;
}

/** A down would drop tables or columns that hold data, and `--force` was not given. Nothing was reverted. */
export class DownDataError extends MigrationError {
  readonly data: readonly DataAtRisk[];

  constructor(data: readonly DataAtRisk[]) {
    const schemas = [...new Set(data.map((d) => d.schema))];
    super(
      'AUTHDB_DOWN_DATA',
      [
        'migrate down would drop data; nothing was reverted:',
        ...data.map((d) => `  ${describeData(d)}`),
        `Back the data up first (e.g. pg_dump --data-only ${schemas.map((s) => `--schema '${s}'`).join(' ')} …), then rerun with --force to drop it.`,
      ].join('\n'),
    );
    this.data = data;
  }
}

/** `table "s"."t": 3 row(s)` or `column "s"."t"."c": 2 row(s) with a value`. */
export function describeData(d: DataAtRisk): string {
  const table = `"${d.schema}"."${d.table}"`;
  return d.column === undefined ? `table ${table}: ${d.rows} row(s)` : `column ${table}."${d.column}": ${d.rows} row(s) with a value`;
}

async function countRows(client: ClientBase, drop: DroppedData, seeds: SeedRows | undefined): Promise<number> {
  const exists = await client.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
       WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND c.relname OPERATOR(pg_catalog.=) $2 AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
         AND ($3::pg_catalog.text IS NULL OR EXISTS (SELECT FROM pg_catalog.pg_attribute a
           WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) $3 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped))) AS exists`,
    [drop.schema, drop.table, drop.column ?? null],
  );
  if (!exists.rows[0]?.exists) return 0;
  const id = (name: string): string => client.escapeIdentifier(name);
  const table = `${id(drop.schema)}.${id(drop.table)}`;
  const where = drop.column === undefined ? '' : ` WHERE ${id(drop.column)} IS NOT NULL`;
  if (!seeds) {
    const { rows } = await client.query<{ n: string }>(`SELECT pg_catalog.count(*) AS n FROM ${table}${where}`);
    return Number(rows[0]?.n ?? 0);
  }
  // Every row minus the seed rows, with multiplicity, compared on the seeded columns' text form.
  const selected = seeds.columns.map((c) => `${id(c)}::pg_catalog.text`).join(', ');
  const arrays = seeds.columns.map((_, i) => `pg_catalog.unnest($${i + 1}::pg_catalog.text[])`).join(', ');
  const values = seeds.columns.map((_, i) => seeds.rows.map((row) => row[i] ?? null));
  const { rows } = await client.query<{ n: string }>(
    `SELECT pg_catalog.count(*) AS n FROM (SELECT ${selected} FROM ${table}${where} EXCEPT ALL SELECT * FROM ROWS FROM (${arrays})) AS extra`,
    values,
  );
  return Number(rows[0]?.n ?? 0);
}
