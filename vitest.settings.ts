import type { ViteUserConfig } from 'vitest/config';

/** Settings both vitest configurations share. */
export const TEST_SETTINGS = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks',
  // Tests mostly wait on PostgreSQL and child processes: more files than cores in flight.
  maxWorkers: 3,
} satisfies NonNullable<ViteUserConfig['test']>;

/** Tests about the container path itself: they run only there. */
export const CONTAINER_ONLY: string[] = ['test/containers/**'];
