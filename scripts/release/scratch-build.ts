import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withScratchDatabase } from '../../src/contract/scratch-database.js';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';
import { Migrator } from '../../src/migrate/migrator.js';

/** The schema a scratch build migrates into: a name no definition mentions, so removing it makes a definition schema-neutral. */
export const SCRATCH_SCHEMA = 'authdb_previous';

const APPLICATION_NAME = 'authdb release scripts';

/**
 * Builds a scratch database from `migrationsDir` (every migration applied,
 * into {@link SCRATCH_SCHEMA}) and runs `work` on it. The server is the one
 * `databaseUrl` names (a scratch database is created there and dropped; the
 * role needs CREATEDB), else a throwaway embedded PostgreSQL in the OS temp
 * directory, removed afterwards.
 */
export async function withScratchBuild<T>(migrationsDir: string, databaseUrl: string | undefined, work: (client: pg.Client) => Promise<T>): Promise<T> {
  if (databaseUrl !== undefined) return buildOn(databaseUrl, migrationsDir, work);
  const dir = await mkdtemp(join(tmpdir(), 'authdb-scratch-build-'));
  const cluster = new EmbeddedCluster({ dir, ephemeral: true });
  try {
    await cluster.initialise();
    await cluster.start();
    return await buildOn(await cluster.superuserUrl(), migrationsDir, work);
  } finally {
    await cluster.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

async function buildOn<T>(url: string, migrationsDir: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url, application_name: APPLICATION_NAME });
  await admin.connect();
  try {
    const source = { kind: 'url', url, origin: '--database-url' } as const;
    return await withScratchDatabase({ admin, source, applicationName: APPLICATION_NAME }, async (client) => {
      await new Migrator({ client, schema: SCRATCH_SCHEMA, migrationsDir }).up();
      return work(client);
    });
  } finally {
    await admin.end();
  }
}
