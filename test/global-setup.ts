import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, TEST_PKI_DIR_ENV } from './emulators/test-pki.ts';

/**
 * vitest globalSetup: runs once in the main process before any worker starts. Generates the test
 * PKI and exports it through the environment, which the fork workers (and anything they spawn)
 * inherit — so every TLS client trusts the test CA without a `ca` option, as it would trust a real
 * public CA in production.
 */
export function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'o365-test-pki-'));
  const pki = createTestPki(dir);
  process.env.NODE_EXTRA_CA_CERTS = pki.caFile;
  process.env[TEST_PKI_DIR_ENV] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
