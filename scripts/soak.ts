/**
 * `npm run soak -- [messages=1000] [consumers=6] [smtp|graph]`: the fault-injection soak at full
 * size. Messages go through fauxqs → the real handler in Lambda-like sandboxes → the Office 365
 * emulator (or, with `graph`, the Graph emulator through MAIL_TRANSPORT=graph), with the
 * ledger and rate limiter on dynalite, while faults are injected; prints the figures and exits 1
 * when a message was lost, a recipient dropped, a message sent twice outside the documented
 * window, or the queue did not drain; when the server refused a fourth connection (`432 4.3.2`);
 * or when the configuration outage (SMTP only) dead-lettered a message, left one unsent, or
 * received one more than twice beyond the send.
 *
 * The emulators use a throwaway test CA, and Node reads NODE_EXTRA_CA_CERTS only at start-up, so
 * the script generates the CA and re-runs itself in a child that trusts it (certificates are
 * verified as always).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInPreparedChild } from '../lib/local/local-ca-reexec.ts';
import { createTestPki, loadTestPki, TEST_PKI_DIR_ENV } from '../test/emulators/test-pki.ts';

if (!process.env[TEST_PKI_DIR_ENV]) {
  process.env[TEST_PKI_DIR_ENV] = mkdtempSync(join(tmpdir(), 'o365-soak-pki-'));
  createTestPki(process.env[TEST_PKI_DIR_ENV]);
}
const exitCode = await runInPreparedChild(loadTestPki().caFile);
if (exitCode !== undefined) process.exit(exitCode);

// In the child, trusting the test CA from here on.
const { runSoak } = await import('../test/soak/soak-run.ts');
const { soakTable } = await import('../test/soak/soak-figures.ts');
const [messagesArg, consumersArg, transportArg = 'smtp'] = process.argv.slice(2);
const messages = Number(messagesArg ?? 1000);
const consumers = Number(consumersArg ?? 6);
if (
  !Number.isInteger(messages) ||
  messages < 1 ||
  !Number.isInteger(consumers) ||
  consumers < 1 ||
  (transportArg !== 'smtp' && transportArg !== 'graph')
) {
  console.error('usage: npm run soak -- [messages=1000] [consumers=6] [smtp|graph]');
  process.exit(2);
}
const transport = transportArg;

const started = new Date();
const figures = await runSoak({
  messages,
  consumers,
  transport,
  log: (line) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`),
});
console.log(
  `\nSoak of ${messages} messages, ${consumers} consumers, over ${transport}, started ${started.toISOString()}`,
);
console.table(soakTable(figures));
const failures = [
  ...(figures.drained ? [] : ['the queue did not drain']),
  ...(figures.lost.length > 0 ? [`lost: ${figures.lost.join(', ')}`] : []),
  ...(figures.recipientsDropped.length > 0
    ? [`recipients dropped: ${figures.recipientsDropped.join(', ')}`]
    : []),
  ...(figures.sentTwiceOutsideWindow.length > 0
    ? [`sent twice outside the window: ${figures.sentTwiceOutsideWindow.join(', ')}`]
    : []),
  ...(figures.misrouted.length > 0 ? [`misrouted: ${figures.misrouted.join(', ')}`] : []),
  ...(figures.sentUnrecorded.length > 0
    ? [`sent but never recorded by the ledger: ${figures.sentUnrecorded.join(', ')}`]
    : []),
  ...(figures.concurrencyRefused > 0
    ? [`432 concurrent-connection replies: ${figures.concurrencyRefused}`]
    : []),
  ...configOutageFailures(figures.configOutage),
];
for (const failure of failures) console.error(`FAIL ${failure}`);

function configOutageFailures(o: (typeof figures)['configOutage']): string[] {
  if (!o) return [];
  return [
    ...(o.deadLettered > 0 ? [`dead-lettered during configuration outage: ${o.deadLettered}`] : []),
    ...(o.sent < o.messages
      ? [`configuration outage: ${o.sent} of ${o.messages} sent after the fix`]
      : []),
    ...(o.mostExtraReceives > 2
      ? [`configuration outage: a message received ${o.mostExtraReceives} extra times`]
      : []),
  ];
}
process.exit(failures.length > 0 ? 1 : 0);
