/**
 * `o365-mail doctor` for the other doors: Graph (the Graph host on 443, the token's audience and
 * roles, a test send with --to, the RBAC for Applications commands on a refusal) and HVE (the
 * Exchange Mail.Send role), against the emulators, through the real bin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphEmulator, startGraphEmulator } from '../emulators/graph-emulator.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import {
  MAIL_SEND_ROLE,
  rolesPerResource,
  SMTP_SEND_AS_APP_ROLE,
  startTokenEndpoint,
  type TokenEndpoint,
} from '../emulators/token-endpoint.ts';
import { runCli } from './run-cli.ts';

const SENDER = 'noreply@contoso.com';
const OUTSIDE_SCOPE = 'ceo@contoso.com';

let tokens: TokenEndpoint;
let graph: GraphEmulator;
let hve: Office365Smtp;

beforeAll(async () => {
  tokens = await startTokenEndpoint({
    clients: {
      'rbac-client': { secret: 's', rolesFor: rolesPerResource([SMTP_SEND_AS_APP_ROLE], []) },
      'consented-client': {
        secret: 's',
        rolesFor: rolesPerResource([MAIL_SEND_ROLE], [MAIL_SEND_ROLE]),
      },
    },
  });
  graph = await startGraphEmulator({
    tokenEndpoint: tokens,
    rbac: { 'rbac-client': { mailSend: [SENDER] } },
  });
  hve = await startOffice365Smtp({
    tokenEndpoint: tokens,
    hve: { internalDomains: ['contoso.com'] },
  });
});
afterAll(async () => {
  await Promise.all([graph?.stop(), hve?.stop(), tokens?.stop()]);
});

function env(overrides: Record<string, string> = {}) {
  return {
    MAIL_SENDER: SENDER,
    O365_TENANT_ID: tokens.tenantId,
    O365_CLIENT_ID: 'rbac-client',
    O365_CLIENT_SECRET: 's',
    O365_AUTHORITY_HOST: tokens.authorityHost,
    ...overrides,
  };
}
const graphEnv = (overrides: Record<string, string> = {}) =>
  env({ MAIL_TRANSPORT: 'graph', O365_GRAPH_ENDPOINT: graph.endpoint, ...overrides });
const line = (stdout: string, start: string) =>
  stdout.split('\n').find((l) => l.startsWith(start)) ?? '';

describe('o365-mail doctor over Graph', () => {
  it('checks the Graph host and the token, and sends a test message with --to', async () => {
    const run = await runCli(['doctor', '--to', 'me@contoso.com'], { env: graphEnv() });
    expect(run.code).toBe(0);
    expect(line(run.stdout, '✓ Configuration')).toContain(
      `Microsoft Graph ${graph.endpoint} (sendMail`,
    );
    expect(line(run.stdout, '✓ TCP')).toContain(
      `connected to 127.0.0.1:${new URL(graph.endpoint).port}`,
    );
    expect(line(run.stdout, '✓ STARTTLS/TLS')).toMatch(/TLSv1\.[23]/);
    expect(run.stdout).toContain(`aud ${graph.endpoint}`);
    expect(run.stdout).toContain('roles (none)');
    expect(line(run.stdout, '- AUTH')).toContain('Graph has no login');
    expect(line(run.stdout, '✓ Test send')).toContain(
      `from ${SENDER} to me@contoso.com: 202 Accepted (accepted for delivery, not yet delivered)`,
    );
    expect(graph.messages.map((m) => m.subject)).toContain('o365-mail doctor: test message');
  });

  it('warns when Mail.Send is consented tenant-wide: the RBAC scope then restricts nothing', async () => {
    const run = await runCli(['doctor'], { env: graphEnv({ O365_CLIENT_ID: 'consented-client' }) });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('roles Mail.Send');
    expect(run.stdout).toMatch(
      /! Mail\.Send is consented tenant-wide in Entra: the app can send as every mailbox\. .*restricts nothing/,
    );
  });

  it('prints the RBAC for Applications commands for the mailbox when Graph refuses the app', async () => {
    const run = await runCli(['doctor', '--to', 'me@contoso.com'], {
      env: graphEnv({ MAIL_SENDER: OUTSIDE_SCOPE }),
    });
    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ Test send')).toContain('403 ErrorAccessDenied');
    expect(run.stdout).toContain(
      `New-ManagementScope -Name "o365-mail-queue senders" -RecipientRestrictionFilter "PrimarySmtpAddress -eq '${OUTSIDE_SCOPE}'"`,
    );
    expect(run.stdout).toContain(
      'New-ManagementRoleAssignment -App rbac-client -Role "Application Mail.Send" -CustomResourceScope "o365-mail-queue senders"',
    );
    expect(run.stdout).toMatch(
      /Fix: .*Give the app Mail\.Send on MAIL_SENDER with RBAC for Applications/,
    );
  });

  it('explains an unreachable Graph host with the Graph table', async () => {
    const run = await runCli(['doctor'], {
      env: graphEnv({ O365_GRAPH_ENDPOINT: 'https://127.0.0.1:9' }),
    });
    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ TCP')).toContain('Could not reach Graph');
    expect(run.stdout).toContain('outbound 443 to the Graph endpoint');
  });
});

describe('o365-mail doctor for High Volume Email', () => {
  const hveEnv = (overrides: Record<string, string> = {}) =>
    env({ SMTP_ENDPOINT: 'hve', SMTP_HOST: hve.host, SMTP_PORT: String(hve.port), ...overrides });

  it('passes with an Exchange Mail.Send token and sends to an internal address', async () => {
    const run = await runCli(['doctor', '--to', 'staff@contoso.com'], {
      env: hveEnv({ O365_CLIENT_ID: 'consented-client' }),
    });
    expect(run.code).toBe(0);
    expect(line(run.stdout, '✓ Configuration')).toContain('High Volume Email, SMTP');
    expect(line(run.stdout, '✓ AUTH')).toContain('XOAUTH2');
    expect(line(run.stdout, '✓ Test send')).toContain('staff@contoso.com');
  });

  it('fails the token step without Mail.Send, with the HVE fix', async () => {
    const run = await runCli(['doctor'], { env: hveEnv() });
    expect(run.code).toBe(1);
    expect(line(run.stdout, '✗ Token')).toContain('the token has no Mail.Send role');
    expect(run.stdout).toContain('Add-HVEAppAccess');
  });
});
