import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Focused tests never pass CI.
    allowOnly: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: e2e tests start whole services, so keep files in parallel but bounded.
    maxWorkers: 2,
  },
});
