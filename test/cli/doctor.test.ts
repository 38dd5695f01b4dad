import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaptureSmtpServer } from '../../lib/local/capture-smtp-server.ts';
import { ensureLocalCertificate } from '../../lib/local/local-certificate.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import { runCli } from './run-cli.ts';

const SENDER = 'noreply@contoso.com';

let tokens: TokenEndpoint;
let healthy: Office365Smtp;
let noStartTls: Office365Smtp;
let authDisabled: Office365Smtp;

function env(smtp: Office365Smtp, overrides: Record<string, string> = {}) {
  return {
    MAIL_SENDER: SENDER,
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    SMTP_AUTH: 'oauth2',
    O365_TENANT_ID: tokens.tenantId,
    O365_CLIENT_ID: 'test-client',
    O365_CLIENT_SECRET: 'test-secret',
    O365_AUTHORITY_HOST: tokens.authorityHost,
    ...overrides,
  };
}

const doctor = (args: string[], e: Record<string, string>) =>
  runCli(['doctor', ...args], { env: e });
const line = (stdout: string, start: string) =>
  stdout.split('\n').find((l) => l.startsWith(start)) ?? '';

beforeAll(async () => {
  tokens = await startTokenEndpoint({
    clients: {
      'test-client': { secret: 'test-secret', roles: ['SMTP.SendAsApp'] },
      'no-role-client': { secret: 'no-role-secret', roles: [] },
      // RBAC for Applications: Exchange grants the role, so Entra's token carries none.
      'rbac-client': { secret: 'rbac-secret', roles: [] },
    },
  });
  const mailboxes = { [SENDER]: { rbacApps: ['rbac-client'] } };
  healthy = await startOffice365Smtp({ tokenEndpoint: tokens, mailboxes });
  noStartTls = await startOffice365Smtp({ tokenEndpoint: tokens, mailboxes, startTls: false });
  authDisabled = await startOffice365Smtp({
    tokenEndpoint: tokens,
    mailboxes: { [SENDER]: { smtpAuthDisabled: true } },
  });
});
afterAll(async () => {
  await Promise.all([healthy?.stop(), noStartTls?.stop(), authDisabled?.stop(), tokens?.stop()]);
});

describe('o365-mail doctor', () => {
  it('passes every step against a healthy set-up and says what it found', async () => {
    const run = await doctor([], env(healthy));

    expect(run.code).toBe(0);
    expect(line(run.stdout, '✓ Configuration')).toContain(
      `SMTP ${healthy.host}:${healthy.port} (STARTTLS), SMTP_AUTH=oauth2`,
    );
    expect(line(run.stdout, '✓ DNS')).toContain('127.0.0.1 is an IP address');
    expect(line(run.stdout, '✓ TCP')).toContain(`connected to 127.0.0.1:${healthy.port}`);
    expect(line(run.stdout, '✓ STARTTLS/TLS')).toMatch(/TLSv1\.[23]/);
    expect(run.stdout).toContain('verified (trusted issuer, host name matches)');
    expect(run.stdout).toMatch(/roles SMTP\.SendAsApp/);
    expect(run.stdout).toContain('aud https://outlook.office365.com');
    expect(line(run.stdout, '✓ AUTH')).toContain(
      `235 Authentication successful as ${SENDER} (XOAUTH2)`,
    );
    expect(line(run.stdout, '- Test send')).toContain('--to <address>');
    expect(run.stdout).toContain('Every step passed');
    expect(run.stdout).not.toContain('\x1b[');
  });

  it('prints when the credential expires, and warns a month ahead', async () => {
    const soon = new Date(Date.now() + 10.5 * 86_400_000);
    const run = await doctor([], env(healthy, { MAIL_CREDENTIAL_EXPIRES_AT: soon.toISOString() }));
    expect(run.code).toBe(0);
    const day = soon.toISOString().slice(0, 10);
    expect(run.stdout).toContain(`credential: the client secret expires on ${day} (in 10 days)`);
    expect(run.stdout).toContain(
      `! the client secret expires on ${day} (in 10 days): create a new client secret`,
    );
    const unknown = await doctor([], env(healthy));
    expect(unknown.stdout).toContain('credential: expiry unknown (put expiresAt next to it');
  });

  it('sends a test message with --send-test and reports all steps as JSON with --json', async () => {
    const before = healthy.messages.length;

    const run = await doctor(['--send-test', 'ann@example.com', '--json'], env(healthy));

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual([
      'configuration:ok',
      'dns:ok',
      'tcp:ok',
      'tls:ok',
      'token:ok',
      'auth:ok',
      'sendTest:ok',
    ]);
    expect(healthy.messages.length).toBe(before + 1);
    expect(healthy.messages.at(-1)!.envelope.to).toEqual(['ann@example.com']);
  });

  it('fails at STARTTLS when the server offers none, explains it, skips the rest', async () => {
    const run = await doctor([], env(noStartTls));

    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ STARTTLS/TLS')).toContain('does not support required STARTTLS');
    expect(run.stdout).toContain(
      'What it means: The server would not upgrade the connection to TLS',
    );
    expect(run.stdout).toContain('Fix: Check SMTP_HOST and SMTP_PORT');
    expect(line(run.stdout, '- Token')).toContain('skipped: STARTTLS/TLS failed');
    expect(line(run.stdout, '- AUTH')).toContain('skipped');
    expect(noStartTls.stats.authAttempts).toBe(0);
  });

  it('fails at the token with a wrong client secret, with Entra’s error and the fix', async () => {
    const run = await doctor([], env(healthy, { O365_CLIENT_SECRET: 'wrong-secret' }));

    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ Token')).toContain('AADSTS7000215');
    expect(run.stdout).toMatch(/Fix: .*client secret VALUE/);
    expect(line(run.stdout, '- AUTH')).toContain('skipped: Token failed');
  });

  it('passes with an RBAC for Applications assignment: no role in the token, a warning, AUTH decides', async () => {
    const run = await doctor(
      [],
      env(healthy, { O365_CLIENT_ID: 'rbac-client', O365_CLIENT_SECRET: 'rbac-secret' }),
    );

    expect(run.code).toBe(0);
    expect(line(run.stdout, '✓ Token')).toContain('issued for app rbac-client');
    expect(run.stdout).toContain('roles (none)');
    expect(run.stdout).toMatch(
      /! the token has no SMTP\.SendAsApp role\. .*"Application SMTP\.SendAsApp" .*admin consent/,
    );
    expect(line(run.stdout, '✓ AUTH')).toContain(`235 Authentication successful as ${SENDER}`);
  });

  it('warns at the token and fails at AUTH when the app has neither the role nor an RBAC assignment', async () => {
    const run = await doctor(
      [],
      env(healthy, { O365_CLIENT_ID: 'no-role-client', O365_CLIENT_SECRET: 'no-role-secret' }),
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('! the token has no SMTP.SendAsApp role');
    expect(line(run.stdout, '✗ AUTH')).toContain('535 5.7.3');
    expect(run.stdout).toMatch(
      /What it means: Office 365 refused the credentials.*no SMTP\.SendAsApp/,
    );
  });

  it('fails at AUTH when SMTP AUTH is disabled for the mailbox', async () => {
    const run = await doctor([], env(authDisabled));

    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ AUTH')).toContain('535 5.7.139');
    expect(run.stdout).toContain(
      'What it means: SMTP AUTH is switched off for the sending mailbox.',
    );
    expect(run.stdout).toMatch(/Fix: .*Set-CASMailbox/);
  });

  it('fails the test send when the mailbox may not send as the From address', async () => {
    const run = await doctor(
      ['--send-test', 'ann@example.com', '--from', 'billing@contoso.com'],
      env(healthy),
    );

    expect(run.code).toBe(1);
    expect(line(run.stdout, '✓ AUTH')).toContain('235');
    expect(line(run.stdout, '✗ Test send')).toContain('554 5.2.252 SendAsDenied');
    expect(run.stdout).toMatch(/Fix: .*SendAs/);
  });

  it('fails at TLS when the certificate does not verify, and says which certificate it was', async () => {
    // A server whose CA this test run does not trust (its own throwaway local CA).
    const dir = mkdtempSync(join(tmpdir(), 'o365-doctor-'));
    const untrusted = await startCaptureSmtpServer({
      outboxDir: join(dir, 'outbox'),
      tls: ensureLocalCertificate(join(dir, 'tls')),
    });
    try {
      const run = await doctor([], {
        MAIL_SENDER: SENDER,
        SMTP_HOST: untrusted.host,
        SMTP_PORT: String(untrusted.port),
        SMTP_AUTH: 'none',
      });

      expect(run.code).toBe(1);
      expect(line(run.stdout, '✗ STARTTLS/TLS')).toContain('not trusted');
      expect(run.stdout).toContain('issued by CN=o365-mail-queue local CA');
      expect(run.stdout).toContain('NOT verified');
      expect(run.stdout).toContain('Never turn verification off');
    } finally {
      await untrusted.stop();
    }
  });

  it('stops at the configuration and names every missing variable', async () => {
    const run = await doctor([], { SMTP_AUTH: 'oauth2' });

    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ Configuration')).toContain("problems in the sender's configuration");
    expect(run.stdout).toContain('MAIL_SENDER is not set');
    expect(run.stdout).toContain('O365_TENANT_ID is not set');
    expect(line(run.stdout, '- DNS')).toContain('skipped: Configuration failed');
  });
});
