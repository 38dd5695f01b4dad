import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The packaging test has its own config and step (npm run test:package).
    exclude: [...configDefaults.exclude, 'test/package/**'],
    // Emulators (SQS, SMTP, token endpoint, DynamoDB) run in each test process on 127.0.0.1.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The test CA is generated once before the workers start, so NODE_EXTRA_CA_CERTS reaches them.
    globalSetup: ['test/global-setup.ts'],
  },
});
