import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Focused tests never pass CI.
    allowOnly: false,
    testTimeout: 30_000,
    // Set-up starts whole services on a shared database; under a loaded CI machine it has been
    // seen to take over 30 s, which says nothing about the code under test.
    hookTimeout: 60_000,
    // Two cores: e2e tests start whole services, so keep files in parallel but bounded.
    maxWorkers: 2,
  },
});
