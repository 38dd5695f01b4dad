import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { loadSenderConfig, type SenderConfigResult } from '../../lib/config/sender-config.ts';

const BASE = {
  MAIL_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq',
  MAIL_SENDER: 'NoReply@Contoso.com',
  O365_TENANT_ID: '11111111-2222-3333-4444-555555555555',
  O365_CLIENT_ID: '66666666-7777-8888-9999-000000000000',
  O365_CLIENT_SECRET: 'not-a-real-secret',
};

function selfSignedPem(): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'o365-mail-queue test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'o365-mail-queue test' }]);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

function expectOk(result: SenderConfigResult) {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.problems.join(' | ')}`);
  return result.config;
}

function expectProblems(result: SenderConfigResult): string[] {
  if (result.ok) throw new Error('expected problems, got a valid config');
  return result.problems;
}

describe('loadSenderConfig', () => {
  it('fills the SPEC defaults: Office 365 on 587 with STARTTLS and OAuth 2.0', () => {
    const config = expectOk(loadSenderConfig(BASE));
    expect(config).toEqual({
      dlqUrl: BASE.MAIL_DLQ_URL,
      sender: 'noreply@contoso.com',
      allowedFrom: ['noreply@contoso.com'],
      transport: 'smtp',
      smtp: {
        endpoint: 'office365',
        host: 'smtp.office365.com',
        port: 587,
        tls: 'starttls',
        auth: 'oauth2',
        allowPlaintext: false,
        connectionTimeoutMs: 10_000,
        greetingTimeoutMs: 10_000,
        socketTimeoutMs: 30_000,
        keepAliveSeconds: 60,
      },
      oauth: {
        tenantId: BASE.O365_TENANT_ID,
        clientId: BASE.O365_CLIENT_ID,
        authorityHost: 'https://login.microsoftonline.com',
        scope: 'https://outlook.office365.com/.default',
        clientSecret: 'not-a-real-secret',
      },
    });
  });

  it('reads every optional variable', () => {
    const config = expectOk(
      loadSenderConfig({
        ...BASE,
        MAIL_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/mail',
        MAIL_ALLOWED_FROM: ' Alerts@Contoso.com , @Reports.Contoso.com ',
        SMTP_HOST: 'smtp.office365.us',
        O365_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
        O365_SCOPE: 'https://outlook.office365.us/.default',
        SMTP_SOCKET_TIMEOUT_MS: '5000',
        MAIL_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mail-AbCdEf',
      }),
    );
    expect(config.queueUrl).toBe('http://127.0.0.1:4566/000000000000/mail');
    expect(config.allowedFrom).toEqual(['alerts@contoso.com', '@reports.contoso.com']);
    expect(config.smtp).toMatchObject({ host: 'smtp.office365.us', socketTimeoutMs: 5000 });
    expect(config.oauth).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      scope: 'https://outlook.office365.us/.default',
    });
    expect(config.secretArn).toMatch(/^arn:aws:secretsmanager/);
  });

  it('uses implicit TLS by default on port 465 (other servers)', () => {
    const config = expectOk(
      loadSenderConfig({ ...BASE, SMTP_HOST: 'mail.example.net', SMTP_PORT: '465' }),
    );
    expect(config.smtp.tls).toBe('implicit');
  });

  it('collects every problem at once, each naming its variable', () => {
    const problems = expectProblems(
      loadSenderConfig({
        MAIL_SENDER: 'not an address',
        SMTP_HOST: 'smtp://smtp.office365.com',
        SMTP_PORT: '58x7',
        SMTP_AUTH: 'kerberos',
        MAIL_ALLOWED_FROM: 'ok@contoso.com,bad@',
      }),
    );
    const named = [
      'MAIL_DLQ_URL',
      'MAIL_SENDER',
      'SMTP_HOST',
      'SMTP_PORT',
      'SMTP_AUTH',
      'MAIL_ALLOWED_FROM',
    ];
    for (const name of named)
      expect(
        problems.some((p) => p.startsWith(name)),
        name,
      ).toBe(true);
    expect(problems).toHaveLength(named.length);
  });

  it('reads SMTP_KEEPALIVE_SECONDS (0 = QUIT after every batch) and names the fix when it is not whole seconds up to an hour', () => {
    expect(expectOk(loadSenderConfig({ ...BASE, SMTP_KEEPALIVE_SECONDS: '0' })).smtp).toMatchObject(
      { keepAliveSeconds: 0 },
    );
    expect(
      expectOk(loadSenderConfig({ ...BASE, SMTP_KEEPALIVE_SECONDS: ' 300 ' })).smtp,
    ).toMatchObject({ keepAliveSeconds: 300 });
    for (const bad of ['-1', '1.5', '60s', '3601', 'forever']) {
      const problems = expectProblems(loadSenderConfig({ ...BASE, SMTP_KEEPALIVE_SECONDS: bad }));
      expect(problems, bad).toEqual([
        expect.stringMatching(
          new RegExp(
            `^SMTP_KEEPALIVE_SECONDS must be whole seconds from 0 to 3600.*0 = QUIT after every batch.*\\(got "${bad}"\\)`,
          ),
        ),
      ]);
    }
  });

  it('refuses SMTP_TLS=none and says what to do instead', () => {
    const problems = expectProblems(loadSenderConfig({ ...BASE, SMTP_TLS: 'none' }));
    expect(problems).toEqual([
      expect.stringMatching(/^SMTP_TLS=none is not supported.*SMTP_AUTH=none/),
    ]);
  });

  it('refuses implicit TLS against Office 365, which serves STARTTLS on 587 only', () => {
    expect(expectProblems(loadSenderConfig({ ...BASE, SMTP_PORT: '465' }))[0]).toMatch(
      /offers no implicit TLS/,
    );
    expect(expectProblems(loadSenderConfig({ ...BASE, SMTP_TLS: 'implicit' }))[0]).toMatch(
      /SMTP_PORT=587/,
    );
  });

  it('allows plain text only for SMTP_AUTH=none to a loopback host', () => {
    const local = expectOk(
      loadSenderConfig({ ...BASE, SMTP_AUTH: 'none', SMTP_HOST: '127.0.0.1', SMTP_PORT: '2525' }),
    );
    expect(local.smtp.allowPlaintext).toBe(true);
    expect(local.oauth).toBeUndefined();
    const relay = expectOk(
      loadSenderConfig({ ...BASE, SMTP_AUTH: 'none', SMTP_HOST: 'relay.contoso.com' }),
    );
    expect(relay.smtp.allowPlaintext).toBe(false);
    const password = expectOk(
      loadSenderConfig({
        ...BASE,
        SMTP_AUTH: 'password',
        SMTP_PASSWORD: 'pw',
        SMTP_HOST: 'localhost',
      }),
    );
    expect(password.smtp.allowPlaintext).toBe(false);
  });

  it('requires the app registration and one credential for oauth2', () => {
    const missing = expectProblems(
      loadSenderConfig({ MAIL_DLQ_URL: BASE.MAIL_DLQ_URL, MAIL_SENDER: BASE.MAIL_SENDER }),
    );
    expect(missing).toEqual([
      expect.stringMatching(/^O365_TENANT_ID is not set/),
      expect.stringMatching(/^O365_CLIENT_ID is not set/),
      expect.stringMatching(/^O365_CLIENT_SECRET is not set.*O365_CLIENT_CERTIFICATE/),
    ]);
    const common = expectProblems(loadSenderConfig({ ...BASE, O365_TENANT_ID: 'common' }));
    expect(common[0]).toMatch(/^O365_TENANT_ID .*app-only/);
    const scope = expectProblems(
      loadSenderConfig({ ...BASE, O365_SCOPE: 'https://outlook.office.com/SMTP.Send' }),
    );
    expect(scope[0]).toMatch(/^O365_SCOPE must end in \/\.default/);
    const authority = expectProblems(
      loadSenderConfig({ ...BASE, O365_AUTHORITY_HOST: 'http://login.example.com' }),
    );
    expect(authority[0]).toMatch(/^O365_AUTHORITY_HOST must be an https origin/);
  });

  it('accepts a certificate credential (PEM, also with \\n escapes) and checks both halves', () => {
    const { cert, key } = selfSignedPem();
    const { O365_CLIENT_SECRET: _secret, ...noSecret } = BASE;
    const config = expectOk(
      loadSenderConfig({
        ...noSecret,
        O365_CLIENT_CERTIFICATE: cert.replace(/\n/g, '\\n'),
        O365_CLIENT_PRIVATE_KEY: key,
      }),
    );
    expect(config.oauth?.clientCertificate).toBe(cert.trim());
    expect(config.oauth?.clientPrivateKey).toBe(key.trim());
    expect(config.oauth?.clientSecret).toBeUndefined();

    expect(
      expectProblems(loadSenderConfig({ ...noSecret, O365_CLIENT_CERTIFICATE: cert })),
    ).toEqual([expect.stringMatching(/^O365_CLIENT_PRIVATE_KEY is not set/)]);
    expect(
      expectProblems(
        loadSenderConfig({ ...BASE, O365_CLIENT_CERTIFICATE: cert, O365_CLIENT_PRIVATE_KEY: key }),
      ),
    ).toEqual([expect.stringMatching(/both set/)]);
    const garbled = expectProblems(
      loadSenderConfig({
        ...noSecret,
        O365_CLIENT_CERTIFICATE: cert,
        O365_CLIENT_PRIVATE_KEY: 'secret-key-material',
      }),
    );
    expect(garbled).toEqual([
      expect.stringMatching(/^O365_CLIENT_PRIVATE_KEY must be an unencrypted PEM/),
    ]);
    expect(garbled[0]).not.toContain('secret-key-material');
  });

  it('requires SMTP_PASSWORD for password auth and warns that Basic auth is being retired', () => {
    expect(expectProblems(loadSenderConfig({ ...BASE, SMTP_AUTH: 'password' }))[0]).toMatch(
      /^SMTP_PASSWORD is not set/,
    );
    const result = loadSenderConfig({ ...BASE, SMTP_AUTH: 'password', SMTP_PASSWORD: 'pw' });
    expect(result.ok && result.config.password).toBe('pw');
    expect(result.ok && result.warnings[0]).toMatch(/December 2026/);
  });

  it('never echoes a secret value in a problem', () => {
    const problems = expectProblems(
      loadSenderConfig({ ...BASE, SMTP_PORT: 'x', O365_CLIENT_CERTIFICATE: 'cert' }),
    );
    expect(problems.join('\n')).not.toContain(BASE.O365_CLIENT_SECRET);
  });
});
