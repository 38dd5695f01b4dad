import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const START = new URL('../../lib/local/start.ts', import.meta.url).pathname;
const SENDER = 'noreply@contoso.com';

let tokens: TokenEndpoint;
let smtp: Office365Smtp;
let child: ChildProcess;
let cwd: string;
let stdout = '';
let stderr = '';
const waiters: { pattern: RegExp; resolve: () => void }[] = [];

function printed(pattern: RegExp): Promise<void> {
  if (pattern.test(stdout)) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ pattern, resolve }));
}

beforeAll(async () => {
  tokens = await startTokenEndpoint();
  smtp = await startOffice365Smtp({ tokenEndpoint: tokens, mailboxes: { [SENDER]: {} } });
  cwd = mkdtempSync(join(tmpdir(), 'o365-start-real-'));
  // What a developer puts in .env to send through (here: an Office 365 look-alike).
  writeFileSync(
    join(cwd, '.env'),
    [
      `MAIL_SENDER=${SENDER}`,
      `SMTP_HOST=${smtp.host}`,
      `SMTP_PORT=${smtp.port}`,
      `O365_TENANT_ID=${tokens.tenantId}`,
      'O365_CLIENT_ID=test-client',
      'O365_CLIENT_SECRET=test-secret',
      `O365_AUTHORITY_HOST=${tokens.authorityHost}`,
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, O365_LOCAL_SQS_PORT: '0' };
  for (const key of Object.keys(env)) if (/^(MAIL_|SMTP_|FORCE_COLOR)/.test(key)) delete env[key];
  child = spawn(process.execPath, [START], { cwd, env });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stdout)) w.resolve();
      else waiters.push(w);
    }
  });
  await printed(/state\s+\S+pipeline\.json/);
});
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await smtp?.stop();
  await tokens?.stop();
});

describe('npm start with .env configuring Office 365', () => {
  it('sends through the configured server (STARTTLS + XOAUTH2) instead of the capture server', async () => {
    expect(stdout).toContain(
      `SMTP          ${smtp.host}:${smtp.port} (configured in .env/environment: real mail!)`,
    );

    const sent = await runCli(
      ['send', '--to', 'ann@example.com', '--subject', 'Via Office 365', '--text', 'Hi'],
      {
        cwd,
        env: { O365_LOCAL_STATE_FILE: join(cwd, '.local', 'pipeline.json') },
      },
    );
    expect(sent.code).toBe(0);

    await printed(/✓ sent\s+\S+ "Via Office 365" → ann@example\.com/);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]).toMatchObject({
      authUser: SENDER,
      envelope: { to: ['ann@example.com'] },
    });
    // No warnings or JSON log lines leak into the terminal.
    expect(stderr).toBe('');
  }, 30_000);
});
