import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { Migrator } from '../../src/migrate/migrator.js';

/** A database of its own for one test file. */
export interface TestDatabase {
  readonly name: string;
  /** Connection URL (superuser). */
  readonly url: string;
  /** Pool on `url`, max 80 connections. */
  readonly pool: pg.Pool;
  /** Ends the pool and drops the database. */
  close(): Promise<void>;
}

export interface MigratedDatabaseOptions {
  /** Schema the migrations are applied in. Default is `public` (cloned from the migrated template). */
  readonly schema?: string;
}

/** A fresh database with every migration applied. */
export async function createMigratedDatabase(options: MigratedDatabaseOptions = {}): Promise<TestDatabase> {
  const schema = options.schema ?? 'public';
  if (schema === 'public') return createDatabase(inject('templateDatabase'));
  const db = await createDatabase('template0');
  await migrateDatabase(db.url, { schema });
  return db;
}

/** Applies every shipped migration to the database at `url`, on a connection of its own. */
export async function migrateDatabase(url: string, options: { readonly schema?: string } = {}): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await new Migrator({ client, ...options }).up();
  } finally {
    await client.end();
  }
}

/** `server_version_num` of the server `db` is on, e.g. 170006. */
export async function serverVersion(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(rows[0]?.v);
}

/**
 * A migrated database whose e-mail comparisons use a Turkish ICU collation
 * (where lower('I') is dotless 'ı'). PostgreSQL 15+: the database's default
 * collation is ICU tr-TR (`LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR'`).
 * PostgreSQL 14 cannot create such a database, so there the users.email
 * column gets the ICU collation "tr-TR-x-icu" after migrating: every
 * comparison and collation-aware function on the column folds the Turkish way.
 */
export async function createMigratedTurkishDatabase(): Promise<TestDatabase> {
  const probe = await createEmptyDatabase();
  const version = await serverVersion(probe).finally(() => probe.close());
  if (version >= 150000) {
    const db = await createEmptyDatabase("LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'");
    await migrateDatabase(db.url);
    return db;
  }
  const db = await createEmptyDatabase();
  await migrateDatabase(db.url);
  await db.pool.query('ALTER TABLE users ALTER COLUMN email TYPE text COLLATE "tr-TR-x-icu"');
  return db;
}

/** A fresh database with nothing in it; `clause` is appended to CREATE DATABASE (e.g. a locale provider). */
export function createEmptyDatabase(clause = ''): Promise<TestDatabase> {
  return createDatabase('template0', clause);
}

/** URL of `database` on the test server. */
export function databaseUrl(database: string): string {
  const url = new URL(inject('adminUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

async function createDatabase(template: string, clause = ''): Promise<TestDatabase> {
  const name = `authdb_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template} ${clause}`);
  const url = databaseUrl(name);
  if (template === 'template0') await revokePublicCreate(url);
  const pool = new pg.Pool({ connectionString: url, max: 80 });
  // An idle client whose backend goes away (DROP DATABASE … WITH (FORCE) while it
  // still closes, or a test that terminates backends) is an expected event here,
  // not an uncaught error of the whole run.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    close: async () => {
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * `REVOKE CREATE ON SCHEMA public FROM PUBLIC` in the database at `url`: what
 * PostgreSQL 15+ does by default, and what authdb's schema-trust check
 * requires before it migrates into `public` (on PostgreSQL 14 a database made
 * from template0 lets every role create objects there).
 */
export async function revokePublicCreate(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  } finally {
    await client.end();
  }
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
