/**
 * `npm run bench [-- --messages N --batch 10 --delay-ms 20 --samples 7 --smoke --json]`
 *
 * Side by side on 127.0.0.1, through the Office 365 SMTP emulator with a delay on every reply:
 * (a) this project's Lambda handler, (b) the naive per-message consumer, (c) sqs-consumer with a
 * pooled transport; then the sender bundle's cold start. See docs/performance.md.
 *
 * This file only makes a throwaway test CA and restarts the bench with it trusted: Node reads
 * NODE_EXTRA_CA_CERTS once, at start, and every process of the bench needs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPki, TEST_PKI_DIR_ENV } from '../test/emulators/test-pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'o365-bench-pki-'));
const pki = createTestPki(dir);
const child = spawn(
  process.execPath,
  [
    // fauxqs uses node:sqlite, which warns on every start in Node 22; the bench output stays clean.
    '--disable-warning=ExperimentalWarning',
    fileURLToPath(new URL('./bench/run-bench.ts', import.meta.url)),
    ...process.argv.slice(2),
  ],
  {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.caFile, [TEST_PKI_DIR_ENV]: pki.dir },
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = code ?? (signal ? 1 : 0);
});
