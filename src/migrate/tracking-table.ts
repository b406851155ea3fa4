import type { ClientBase } from 'pg';
import { runSetupStatement } from './setup-error.js';

/** Name of the table, in the target schema, that records applied migrations. */
export const TRACKING_TABLE = 'authdb_migrations';

/** One row of the tracking table. */
export interface AppliedMigration {
  readonly name: string;
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
    if (rows[0]?.table) return;
    await runSetupStatement(
      this.#client,
      `CREATE TABLE ${this.#table} (
        name        text PRIMARY KEY,
        checksum    text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
        duration_ms integer NOT NULL
      )`,
      target,
    );
  }

  /** Applied migrations by name; empty when the table does not exist yet (read-only). */
  async applied(): Promise<readonly AppliedMigration[]> {
    const { rows } = await this.#client.query<{ exists: boolean }>('SELECT pg_catalog.to_regclass($1::text) IS NOT NULL AS exists', [this.#table]);
    if (!rows[0]?.exists) return [];
    const result = await this.#client.query<AppliedMigration>(
      `SELECT name, checksum, applied_at AS "appliedAt", duration_ms AS "durationMs" FROM ${this.#table} ORDER BY name`,
    );
    return result.rows;
  }

  async insert(name: string, checksum: string, durationMs: number): Promise<void> {
    await this.#client.query(`INSERT INTO ${this.#table} (name, checksum, duration_ms) VALUES ($1::text, $2::text, $3::integer)`, [
      name,
      checksum,
      Math.round(durationMs),
    ]);
  }

  async delete(name: string): Promise<void> {
    await this.#client.query(`DELETE FROM ${this.#table} WHERE name = $1::text`, [name]);
  }
}
