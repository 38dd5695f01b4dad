import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  credentialExpiry,
  describeCredentialExpiry,
} from '../../../../lib/config/credential-expiry.ts';
import { resolveSecrets } from '../../../../lib/config/secrets.ts';
import { loadSenderConfig, type SenderConfig } from '../../../../lib/config/sender-config.ts';
import {
  createObservability,
  reportCredentialExpiry,
} from '../../../../lib/delivery/observability.ts';
import { issueCertificate, rsaKeyPair } from '../../../../lib/local/certificate-issuer.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const DAY = 86_400_000;
const BASE = {
  MAIL_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq',
  MAIL_SENDER: 'mail@contoso.com',
  O365_TENANT_ID: 'contoso.onmicrosoft.com',
  O365_CLIENT_ID: '11111111-2222-4333-8444-555555555555',
};

function config(env: Record<string, string>): SenderConfig {
  const loaded = loadSenderConfig({ ...BASE, ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  return loaded.config;
}

/** A client certificate that lapses `daysLeft` days (and an hour) after NOW. */
function certificate(daysLeft: number) {
  const keys = rsaKeyPair();
  const cert = issueCertificate({
    keys,
    commonName: 'mail sender',
    backdateMs: Date.now() - NOW + 30 * DAY,
    validMs: 30 * DAY + daysLeft * DAY + 3_600_000,
    extensions: [{ name: 'basicConstraints', cA: false }],
  });
  return {
    O365_CLIENT_CERTIFICATE: forge.pki.certificateToPem(cert),
    O365_CLIENT_PRIVATE_KEY: keys.privatePem,
  };
}

describe('credential expiry', () => {
  it("reads a certificate's own expiry", () => {
    const expiry = credentialExpiry(config(certificate(88)), NOW);
    expect(expiry).toMatchObject({ credential: 'client certificate', daysLeft: 88 });
    expect(describeCredentialExpiry(expiry!)).toBe(
      `the client certificate expires on ${new Date(NOW + 88 * DAY).toISOString().slice(0, 10)} (in 88 days)`,
    );
  });

  it('takes a client secret’s expiry from expiresAt in the secret, and knows none without it', async () => {
    const { env } = await resolveSecrets(
      {
        ...BASE,
        MAIL_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mail-AbC123',
      },
      {
        fetchSecret: async () => ({ O365_CLIENT_SECRET: 'not-shown', expiresAt: '2026-12-01' }),
      },
    );
    const expiry = credentialExpiry(config(env as Record<string, string>), NOW);
    expect(expiry).toEqual({
      credential: 'client secret',
      expiresAt: new Date('2026-12-01T00:00:00Z'),
      daysLeft: 3,
    });
    expect(credentialExpiry(config({ O365_CLIENT_SECRET: 'x' }), NOW)).toBeUndefined();
  });

  it('says when it already expired', () => {
    const expiry = credentialExpiry(
      config({ O365_CLIENT_SECRET: 'x', MAIL_CREDENTIAL_EXPIRES_AT: '2026-11-26T12:00:00Z' }),
      NOW,
    );
    expect(describeCredentialExpiry(expiry!)).toBe(
      'the client secret expired on 2026-11-26 (1 day ago)',
    );
  });

  it('refuses an expiry that is not a date, naming the variable', () => {
    const loaded = loadSenderConfig({
      ...BASE,
      O365_CLIENT_SECRET: 'x',
      MAIL_CREDENTIAL_EXPIRES_AT: 'next spring',
    });
    expect(loaded).toEqual({
      ok: false,
      problems: [
        'MAIL_CREDENTIAL_EXPIRES_AT must be the date the credential expires, like 2027-03-31 or 2027-03-31T12:00:00Z (got "next spring").',
      ],
    });
  });

  it('counts the days left as a metric and warns under 30 days', () => {
    const observability = createObservability({ POWERTOOLS_METRICS_DISABLED: 'true' });
    const warnings: string[] = [];
    observability.logger.warn = ((message: string) => {
      warnings.push(message);
    }) as typeof observability.logger.warn;
    const added: [string, number][] = [];
    observability.metrics.addMetric = ((name: string, _unit: unknown, value: number) => {
      added.push([name, value]);
    }) as typeof observability.metrics.addMetric;
    reportCredentialExpiry(observability, {
      credential: 'client secret',
      expiresAt: new Date(NOW),
      daysLeft: 45,
    });
    reportCredentialExpiry(observability, {
      credential: 'client secret',
      expiresAt: new Date(NOW),
      daysLeft: 29,
    });
    expect(added).toEqual([
      ['CredentialDaysLeft', 45],
      ['CredentialDaysLeft', 29],
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^credential expiring: the client secret expires on .* \(in 29 days\)\. Fix: create a new client secret/,
    );
  });
});
