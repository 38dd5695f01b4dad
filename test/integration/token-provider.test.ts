import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TokenAcquisitionError } from '../../lib/auth/token-acquisition-error.ts';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { OAuthSettings } from '../../lib/config/sender-config.ts';
import { classifySmtpFailure } from '../../lib/transport/smtp/classify-smtp-failure.ts';
import { createTestPki, loadTestPki } from '../emulators/test-pki.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const pki = loadTestPki();
let entra: TokenEndpoint;

function settings(overrides: Partial<OAuthSettings> = {}): OAuthSettings {
  return {
    tenantId: entra.tenantId,
    clientId: 'test-client',
    authorityHost: entra.authorityHost,
    scope: 'https://outlook.office365.com/.default',
    clientSecret: 'test-secret',
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<TokenAcquisitionError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenAcquisitionError);
  return err as TokenAcquisitionError;
}

beforeAll(async () => {
  entra = await startTokenEndpoint({
    clients: {
      'test-client': { secret: 'test-secret' },
      'cert-client': { certificatePem: pki.clientCertPem },
    },
  });
});
afterAll(() => entra.stop());
beforeEach(() => {
  entra.reset();
  clearTokenProviderCache();
});

describe('createTokenProvider against the Entra-like endpoint', () => {
  it('gets one token and reuses it across calls and across providers of the same configuration', async () => {
    const first = createTokenProvider(settings());
    const token = await first.getAccessToken();
    expect(token.split('.')).toHaveLength(3);
    expect(await first.getAccessToken()).toBe(token);
    // A warm Lambda builds its provider again per batch: the module-scope MSAL app keeps the cache.
    expect(await createTokenProvider(settings()).getAccessToken()).toBe(token);
    expect(entra.tokenRequests).toBe(1);
  });

  it('talks to the configured authority host only, never to a Microsoft host', async () => {
    const provider = createTokenProvider(settings());
    await provider.getAccessToken();
    expect(provider.requests.length).toBeGreaterThan(0);
    for (const request of provider.requests) {
      expect(new URL(request.split(' ')[1]!).origin).toBe(entra.authorityHost);
    }
    expect(entra.requests).toContain(
      `GET /${entra.tenantId}/v2.0/.well-known/openid-configuration`,
    );
  });

  it('renews on demand, skipping the cache', async () => {
    const provider = createTokenProvider(settings());
    const token = await provider.getAccessToken();
    const renewed = await provider.getAccessToken(true);
    expect(renewed).not.toBe(token);
    expect(entra.tokenRequests).toBe(2);
    expect(await provider.getAccessToken()).toBe(renewed);
  });

  it('authenticates with a certificate (client assertion signed by its key)', async () => {
    const provider = createTokenProvider(
      settings({
        clientId: 'cert-client',
        clientSecret: undefined,
        clientCertificate: pki.clientCertPem,
        clientPrivateKey: pki.clientKeyPem,
      }),
    );
    expect((await provider.getAccessToken()).split('.')).toHaveLength(3);
    expect(entra.tokensIssued).toBe(1);
  });

  it('reports a wrong secret as invalid_client / AADSTS7000215, a configuration error', async () => {
    const err = await failureOf(
      createTokenProvider(settings({ clientSecret: 'wrong' })).getAccessToken(),
    );
    expect(err).toMatchObject({
      errorCode: 'invalid_client',
      aadsts: 'AADSTS7000215',
      httpStatus: 401,
      transient: false,
    });
    expect(err.message).not.toContain('wrong');
    expect(classifySmtpFailure(err)).toMatchObject({
      failureClass: 'config',
      entry: { id: 'token-invalid-secret' },
    });
  });

  it('reports an unknown client id as AADSTS700016', async () => {
    const err = await failureOf(
      createTokenProvider(settings({ clientId: 'no-such-app' })).getAccessToken(),
    );
    expect(classifySmtpFailure(err)).toMatchObject({
      failureClass: 'config',
      entry: { id: 'token-app-not-found' },
    });
  });

  it('reports a server error at the token endpoint as retry', async () => {
    entra.failNext('server_error', 5);
    const err = await failureOf(createTokenProvider(settings()).getAccessToken());
    expect(err.transient).toBe(true);
    expect(classifySmtpFailure(err)).toMatchObject({
      failureClass: 'retry',
      entry: { id: 'token-unavailable' },
    });
  });

  it('reports an unreachable token endpoint as retry', async () => {
    const down = await startTokenEndpoint();
    const authorityHost = down.authorityHost;
    await down.stop();
    const err = await failureOf(
      createTokenProvider(settings({ authorityHost, tenantId: 'test-tenant' })).getAccessToken(),
    );
    expect(err.errorCode).toBe('network_error');
    // fetch's own message is just "fetch failed"; the cause says what happened.
    expect(err.description).toMatch(/ECONNREFUSED/);
    expect(classifySmtpFailure(err).failureClass).toBe('retry');
  });

  it('refuses a token endpoint whose certificate does not verify, as a configuration error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'o365-untrusted-'));
    const untrusted = createTestPki(dir); // a second CA, which this process does not trust
    const impostor = createServer({ cert: untrusted.certPem, key: untrusted.keyPem }, (_req, res) =>
      res.end('{}'),
    );
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = impostor.address() as AddressInfo;
      const err = await failureOf(
        createTokenProvider(
          settings({ authorityHost: `https://127.0.0.1:${port}` }),
        ).getAccessToken(),
      );
      expect(err).toMatchObject({ errorCode: 'tls_certificate_error', transient: false });
      expect(classifySmtpFailure(err)).toMatchObject({
        failureClass: 'config',
        entry: { id: 'token-certificate-untrusted' },
      });
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unknown tenant as a configuration error', async () => {
    const err = await failureOf(
      createTokenProvider(settings({ tenantId: 'other-tenant' })).getAccessToken(),
    );
    expect(err.httpStatus).toBe(404);
    expect(classifySmtpFailure(err).failureClass).toBe('config');
  });
});
