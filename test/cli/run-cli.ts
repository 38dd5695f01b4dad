import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessRun, runProcess } from '../run-process.ts';

const BIN = new URL('../../bin/o365-mail.js', import.meta.url).pathname;

export type CliRun = ProcessRun;

/** Variables from the developer's shell that would point the CLI somewhere else. */
const LEAKY = /^(MAIL_|SMTP_|O365_|AWS_|FORCE_COLOR$|NO_COLOR$)/;

/**
 * Runs `node bin/o365-mail.js ...args` as a user would: its own process, a scratch working
 * directory (no `.env`, no local pipeline state), stdout not a terminal. `NODE_EXTRA_CA_CERTS`
 * (the test CA from the global setup) is passed through so TLS checks stay on.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliRun> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !LEAKY.test(key)) env[key] = value;
  }
  env.O365_LOCAL_STATE_FILE = join(scratchDir(), 'no-pipeline.json');
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return runProcess(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? scratchDir(),
    env,
    input: options.input,
  });
}

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'o365-cli-'));
  return scratch;
}
