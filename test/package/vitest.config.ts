import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:package`: the packed tarball installed into fresh projects (see pack-tarball.ts).
 * Not part of `npm test`: it builds, packs and installs from the registry, minutes rather than
 * seconds; `.ci/run` runs it as a step of its own.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/package/**/*.test.ts'],
    pool: 'forks',
    // The projects install and build in parallel: most of the time is npm and tsc waiting on I/O.
    maxWorkers: 4,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // The test CA first (doctor's TLS checks), then the tarball.
    globalSetup: ['test/global-setup.ts', 'test/package/pack-tarball.ts'],
  },
});
