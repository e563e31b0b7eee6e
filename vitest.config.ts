import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    // The end-to-end suites start real Prometheus servers once per file; give them room.
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
