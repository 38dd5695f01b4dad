import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import { type StartedPipeline, spawnStart } from './spawn-start.ts';

const SENDER = 'noreply@contoso.com';

let tokens: TokenEndpoint;
let smtp: Office365Smtp;
let start: StartedPipeline;
let cwd: string;

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
  start = await spawnStart(cwd);
});
afterAll(async () => {
  await start?.kill();
  await smtp?.stop();
  await tokens?.stop();
});

describe('npm start with .env configuring Office 365', () => {
  it('sends through the configured server (STARTTLS + XOAUTH2) instead of the capture server', async () => {
    expect(start.stdout).toContain(
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

    await start.printed(/✓ sent\s+\S+ "Via Office 365" → ann@example\.com/);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]).toMatchObject({
      authUser: SENDER,
      envelope: { to: ['ann@example.com'] },
    });
    // No warnings or JSON log lines leak into the terminal.
    expect(start.stderr).toBe('');
  }, 30_000);
});
