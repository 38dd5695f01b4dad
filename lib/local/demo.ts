/**
 * `npm run demo`: the whole pipeline on this machine, five sample messages through it, a table of
 * what became of each, exit 0 only when each ended as expected. Always uses the local capture
 * server (its demo recipients make the failures happen), never a server from `.env`.
 */
import { resolve } from 'node:path';
import pc from 'picocolors';
import { runInPreparedChild } from './local-ca-reexec.ts';
import { ensureLocalCertificate } from './local-certificate.ts';
import { LOCAL_OUTBOX_DIR, LOCAL_TLS_DIR } from './local-defaults.ts';

const exitCode = await runInPreparedChild(ensureLocalCertificate(resolve(LOCAL_TLS_DIR)).caFile);
if (exitCode !== undefined) process.exit(exitCode);

// Loaded only in the child that trusts the local CA.
const { runDemo } = await import('./run-demo.ts');
const color = pc.createColors(process.stdout.isTTY === true && !('NO_COLOR' in process.env));
process.exit(
  await runDemo({ outboxDir: resolve(process.env.O365_LOCAL_OUTBOX || LOCAL_OUTBOX_DIR), color }),
);
