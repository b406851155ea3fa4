import type { ClientBase } from 'pg';
import { fromUtcText, utcTextSql } from '../sql/timestamp-text.js';
import { AUTHDB_SOURCE } from './migration-file.js';
import { runSetupStatement } from './setup-error.js';

/** Name of the table, in the target schema, that records applied migrations. */
export const TRACKING_TABLE = 'authdb_migrations';

/** The column recording each migration's source; rows from before it existed are authdb's. */
export const SOURCE_COLUMN = `source text NOT NULL DEFAULT '${AUTHDB_SOURCE}'`;

/** The table's columns, as `CREATE TABLE` lists them: the same, in the same order, as an older table once altered. */
export const TRACKING_TABLE_COLUMNS = `
        name        text PRIMARY KEY,
        checksum    text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
        duration_ms integer NOT NULL,
        ${SOURCE_COLUMN}
      `;

/** One row of the tracking table. */
export interface AppliedMigration {
  readonly name: string;
  /** The source that applied it (`authdb`, or an application's name for its directory). */
  readonly source: string;
  readonly checksum: string;
  readonly appliedAt: Date;
  readonly durationMs: number;
}

/** Reads and writes `authdb_migrations` in one schema. */
export class TrackingTable {
  readonly #client: ClientBase;
  readonly #table: string;
  readonly #schema: string;

  constructor(client: ClientBase, schema: string) {
    this.#client = client;
    this.#schema = schema;
    this.#table = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(TRACKING_TABLE)}`;
  }

  /**
   * Creates the schema and the table when missing, and only then: a
   * deployer that owns a pre-created schema needs no CREATE on the database
   * (which `CREATE SCHEMA IF NOT EXISTS` checks even when the schema exists).
   * A failure is an `AUTHDB_SETUP` error naming the statement and the privilege.
   */
  async ensure(): Promise<void> {
    const { rows } = await this.#client.query<{ schema: boolean; table: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1::text) AS schema,
              EXISTS (SELECT FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                       WHERE n.nspname = $1::text AND c.relname = $2::text) AS table`,
      [this.#schema, TRACKING_TABLE],
    );
    const target = { schema: this.#schema };
    if (!rows[0]?.schema) await runSetupStatement(this.#client, `CREATE SCHEMA ${this.#client.escapeIdentifier(this.#schema)}`, target);
    if (rows[0]?.table) {
      // A table from before sources existed: every row in it is authdb's.
      if (!(await this.#hasSourceColumn())) await runSetupStatement(this.#client, `ALTER TABLE ${this.#table} ADD COLUMN ${SOURCE_COLUMN}`, target);
      return;
    }
    await runSetupStatement(this.#client, `CREATE TABLE ${this.#table} (${TRACKING_TABLE_COLUMNS})`, target);
  }

  async #hasSourceColumn(): Promise<boolean> {
    const { rows } = await this.#client.query<{ exists: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute
                       WHERE attrelid = pg_catalog.to_regclass($1::text) AND attname = 'source' AND NOT attisdropped) AS exists`,
      [this.#table],
    );
    return rows[0]?.exists === true;
  }

  /** Applied migrations by name; empty when the table does not exist yet (read-only). */
  async applied(): Promise<readonly AppliedMigration[]> {
    const { rows } = await this.#client.query<{ exists: boolean }>('SELECT pg_catalog.to_regclass($1::text) IS NOT NULL AS exists', [this.#table]);
    if (!rows[0]?.exists) return [];
    // Read-only: a table from before sources existed is read as authdb's, unaltered.
    const source = (await this.#hasSourceColumn()) ? 'source' : `'${AUTHDB_SOURCE}'::text`;
    const result = await this.#client.query<{ name: string; source: string; checksum: string; appliedAt: string; durationMs: number }>(
      `SELECT name, ${source} AS source, checksum, ${utcTextSql('applied_at')} AS "appliedAt", duration_ms AS "durationMs"
         FROM ${this.#table} ORDER BY applied_at, name`,
    );
    return result.rows.map((row) => ({ ...row, appliedAt: fromUtcText(row.appliedAt) }));
  }

  async insert(name: string, source: string, checksum: string, durationMs: number): Promise<void> {
    await this.#client.query(`INSERT INTO ${this.#table} (name, source, checksum, duration_ms) VALUES ($1::text, $2::text, $3::text, $4::integer)`, [
      name,
      source,
      checksum,
      Math.round(durationMs),
    ]);
  }

  async delete(name: string): Promise<void> {
    await this.#client.query(`DELETE FROM ${this.#table} WHERE name = $1::text`, [name]);
  }
}
