import { describe, expect, it } from 'vitest';
import type { SmtpSettings } from '../../lib/config/sender-config.ts';
import { smtpConnectionOptions } from '../../lib/transport/smtp/smtp-connection-options.ts';

const OFFICE365: SmtpSettings = {
  host: 'smtp.office365.com',
  port: 587,
  tls: 'starttls',
  auth: 'oauth2',
  allowPlaintext: false,
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
};

describe('smtpConnectionOptions', () => {
  it('requires STARTTLS on 587 with TLS 1.2+, verified certificates and SNI', () => {
    expect(smtpConnectionOptions(OFFICE365)).toMatchObject({
      host: 'smtp.office365.com',
      port: 587,
      secure: false,
      requireTLS: true,
      opportunisticTLS: false,
      tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, servername: 'smtp.office365.com' },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  });

  it('uses TLS from the first byte in implicit mode', () => {
    expect(
      smtpConnectionOptions({ ...OFFICE365, host: 'mail.example.net', port: 465, tls: 'implicit' }),
    ).toMatchObject({
      secure: true,
      requireTLS: false,
    });
  });

  it('allows plain text only when the configuration says so (auth none to loopback)', () => {
    const options = smtpConnectionOptions({
      ...OFFICE365,
      host: '127.0.0.1',
      auth: 'none',
      allowPlaintext: true,
    });
    expect(options).toMatchObject({ requireTLS: false, opportunisticTLS: true });
    expect(options.tls?.servername).toBeUndefined();
    expect(smtpConnectionOptions({ ...OFFICE365, auth: 'none' })).toMatchObject({
      requireTLS: true,
    });
  });

  it('takes timeout and CA overrides', () => {
    const options = smtpConnectionOptions(OFFICE365, {
      timeouts: { socketMs: 500 },
      tls: { ca: 'PEM' },
    });
    expect(options).toMatchObject({
      socketTimeout: 500,
      connectionTimeout: 10_000,
      tls: { ca: 'PEM' },
    });
  });
});
