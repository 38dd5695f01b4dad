import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/o365-mail.js', import.meta.url).pathname;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

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
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? scratchDir(),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'o365-cli-'));
  return scratch;
}
