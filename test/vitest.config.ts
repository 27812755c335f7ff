import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The config lives in test/, but globs and paths are meant from the repository root.
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests start containers and wait for Redis; the first run may build the image.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Covers the global teardown, which may wait 20 s for dockerd before sending SIGKILL.
    teardownTimeout: 60_000,
    // Separate processes, as native modules (better-sqlite3) and child processes prefer.
    pool: 'forks',
    // The machine has 2 cores; files run in parallel, so each file must be self-contained.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
