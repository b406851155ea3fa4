import type { ClientBase } from 'pg';
import { AUTHDB_SOURCE, type MigrationFile } from '../migrate/migration-file.js';
import { Migrator } from '../migrate/migrator.js';
import type { ApplicationObjects } from './application-objects.js';
import { checkContract } from './check.js';
import type { Drift } from './diff.js';
import { assertEmpty } from './reversible.js';
import { CONTRACT_FORMAT, SCHEMA_KEY, takeSnapshot, type Snapshot } from './snapshot.js';

// `migrate baseline` records migrations as applied only once the schema is
// shown to hold exactly what they create: they are applied, for real, to an
// empty scratch database, and the two schemas' snapshots (schema-neutral,
// owner-neutral) are compared as `schema check` compares a contract.

export interface ExpectedSchemaOptions {
  /** Connected to an empty scratch database, not inside a transaction. */
  readonly scratch: ClientBase;
  readonly schema: string;
  /** The migrations to apply there (authdb's, in order, from the first). */
  readonly files: readonly MigrationFile[];
  readonly migrationsDir: string;
  readonly ddlLockTimeoutMs?: number;
}

/** Applies `files` to the scratch database and describes what they built (without the schema's own entry). */
export async function expectedSchema(options: ExpectedSchemaOptions): Promise<Snapshot> {
  const { scratch, schema, files } = options;
  await assertEmpty(scratch, schema, withoutSchemaEntry(await takeSnapshot(scratch, { schema, missingSchema: 'empty' })));
  if (files.some((f) => f.source !== AUTHDB_SOURCE)) throw new Error('expectedSchema: only authdb migrations are baselined');
  const migrator = new Migrator({
    client: scratch,
    schema,
    migrationsDir: options.migrationsDir,
    ...(options.ddlLockTimeoutMs !== undefined && { ddlLockTimeoutMs: options.ddlLockTimeoutMs }),
  });
  const last = files.at(-1);
  if (last !== undefined) await migrator.up({ to: last.name });
  return withoutSchemaEntry(await takeSnapshot(scratch, { schema }));
}

/**
 * The differences (expected → actual) between the expected snapshot and the
 * schema `client` sees: column order by rank, the application's objects (by
 * its up files) not counted, the schema's own entry (not a migration's) left out.
 */
export async function baselineDrift(client: ClientBase, schema: string, expected: Snapshot, app?: ApplicationObjects): Promise<readonly Drift[]> {
  const { drifts } = await checkContract({ client, schema, contract: expected, applicationObjects: app });
  return drifts.filter((d) => d.key !== SCHEMA_KEY);
}

function withoutSchemaEntry(snapshot: Snapshot): Snapshot {
  return { format: CONTRACT_FORMAT, objects: Object.fromEntries(Object.entries(snapshot.objects).filter(([key]) => key !== SCHEMA_KEY)) };
}
