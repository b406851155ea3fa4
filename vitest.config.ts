import { defineConfig } from 'vitest/config';
import { CONTAINER_ONLY, TEST_SETTINGS } from './vitest.settings.js';

// The whole suite, on the provider TEST_DATABASE_PROVIDER chooses (embedded by
// default). vitest.containers.config.ts runs the container path's subset.
export default defineConfig({
  test: { ...TEST_SETTINGS, include: ['test/**/*.test.ts'], exclude: CONTAINER_ONLY },
});
