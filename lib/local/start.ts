/**
 * `npm start`: the whole pipeline on this machine until Ctrl-C, one line per message outcome.
 * Messages go to the local capture server (saved as .eml under ./outbox/), or to the real
 * Office 365 when `.env` configures it. The `o365-mail` command line finds it through
 * `.local/pipeline.json`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pc from 'picocolors';
import { runInPreparedChild } from './local-ca-reexec.ts';
import { ensureLocalCertificate } from './local-certificate.ts';
import { LOCAL_OUTBOX_DIR, LOCAL_SQS_PORT, LOCAL_TLS_DIR } from './local-defaults.ts';
import type { LocalPipeline } from './local-pipeline.ts';
import { localStateFile, removeLocalState, writeLocalState } from './local-state.ts';
import { usesConfiguredSmtp } from './uses-configured-smtp.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
const capture = !usesConfiguredSmtp(process.env);
const exitCode = await runInPreparedChild(
  capture ? ensureLocalCertificate(resolve(LOCAL_TLS_DIR)).caFile : undefined,
);
if (exitCode !== undefined) process.exit(exitCode);

// Loaded only now: the re-executing parent above never needs the emulator.
const { startLocalPipeline } = await import('./local-pipeline.ts');
const { formatOutcomeLine } = await import('./outcome-line.ts');

const color = pc.createColors(process.stdout.isTTY === true && !('NO_COLOR' in process.env));
const port = wholeNumber('O365_LOCAL_SQS_PORT', 65_535) ?? LOCAL_SQS_PORT;
let pipeline: LocalPipeline;
try {
  pipeline = await startLocalPipeline({
    sqsPort: port,
    outboxDir: process.env.O365_LOCAL_OUTBOX || LOCAL_OUTBOX_DIR,
    verbose: process.env.O365_LOCAL_VERBOSE === '1',
    onOutcome: (outcome) => console.log(formatOutcomeLine(outcome, color)),
  });
} catch (error) {
  console.error(color.red(`Could not start the local pipeline: ${(error as Error).message}`));
  process.exit(1);
}

const { state } = pipeline;
writeLocalState(state);
const smtp =
  state.smtp.kind === 'capture'
    ? `local capture on ${state.smtp.host}:${state.smtp.port} (STARTTLS) → ${state.smtp.outboxDir}`
    : process.env.MAIL_TRANSPORT?.trim().toLowerCase() === 'graph'
      ? `Microsoft Graph ${process.env.O365_GRAPH_ENDPOINT ?? 'https://graph.microsoft.com'} (configured in .env/environment: real mail!)`
      : `${state.smtp.host}:${state.smtp.port} (configured in .env/environment: real mail!)`;
console.log(color.bold('o365-mail-queue local pipeline'));
console.log(`  SQS (fauxqs)  ${state.sqsEndpoint}`);
console.log(`  mail queue    ${state.queueUrl}`);
console.log(`  dead letters  ${state.dlqUrl}`);
console.log(`  SMTP          ${smtp}`);
console.log(`  state         ${localStateFile()}`);
console.log(
  color.dim(
    '  Try: npx o365-mail send --to ann@example.com --subject Hello --text Hi   (Ctrl-C stops)',
  ),
);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.log(color.dim('stopping…'));
  removeLocalState(process.pid);
  await pipeline.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

/** A whole number from 0 to `max` in `name`, or undefined when unset; exits with a message otherwise. */
function wholeNumber(name: string, max: number): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= 0 && value <= max) return value;
  console.error(`${name} must be a whole number from 0 to ${max}, not "${raw}".`);
  process.exit(2);
}
