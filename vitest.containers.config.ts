import { defineConfig } from 'vitest/config';
import { CONTAINER_ONLY, TEST_SETTINGS } from './vitest.settings.js';

// The container path (npm run test:containers): the integration tests the
// product's design names, run on PostgreSQL in a container through
// Testcontainers. The embedded path runs them too, with everything else.
// Read by the global setup, in this process: the container path unless told otherwise.
process.env.TEST_DATABASE_PROVIDER ??= 'testcontainers';

export default defineConfig({
  test: {
    ...TEST_SETTINGS,
    include: [
      ...CONTAINER_ONLY,
      // The registration contract, and foreign-key integrity under concurrent registrations.
      'test/sql/register.test.ts',
      'test/sql/concurrency.test.ts',
      // A failing migration leaves nothing and records nothing; the round trip up/down.
      'test/migrate/transactions.test.ts',
      'test/cli/round-trip.test.ts',
      // The typed client.
      'test/client/*.test.ts',
    ],
  },
});
