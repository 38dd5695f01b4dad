import { get } from 'node:https';
import {
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTestPki } from '../emulators/test-pki.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

const SCOPE = 'https://outlook.office365.com/.default';

/** MSAL's network module, but recording every URL so the test can prove nothing leaves 127.0.0.1. */
function recordingNetwork(urls: string[]): INetworkModule {
  async function send<T>(method: string, url: string, options?: NetworkRequestOptions) {
    urls.push(url);
    const res = await fetch(url, {
      method,
      headers: options?.headers ?? {},
      ...(options?.body ? { body: options.body } : {}),
    });
    return {
      headers: Object.fromEntries(res.headers),
      body: (await res.json()) as T,
      status: res.status,
    } satisfies NetworkResponse<T>;
  }
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

function httpsGetJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    // No `ca` option: the worker must trust the test CA through NODE_EXTRA_CA_CERTS.
    get(url, (res) => {
      let data = '';
      res.on('data', (c) => {
        data += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    }).on('error', reject);
  });
}

describe('token endpoint emulator', () => {
  let endpoint: TokenEndpoint;
  const pki = loadTestPki();

  beforeAll(async () => {
    endpoint = await startTokenEndpoint({
      clients: {
        'test-client': { secret: 'test-secret', roles: ['SMTP.SendAsApp'] },
        'cert-client': { certificatePem: pki.clientCertPem, roles: ['SMTP.SendAsApp'] },
      },
    });
  });
  afterEach(() => endpoint.reset());
  afterAll(() => endpoint.stop());

  function msal(urls: string[], credential: Record<string, unknown>, clientId = 'test-client') {
    return new ConfidentialClientApplication({
      auth: {
        clientId,
        authority: endpoint.url,
        knownAuthorities: [endpoint.knownAuthority],
        ...credential,
      },
      system: { networkClient: recordingNetwork(urls) },
    });
  }

  it('is trusted by a plain https client in the worker (global setup exported the CA)', async () => {
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(pki.caFile);
    const { status, body } = await httpsGetJson(
      `${endpoint.url}/v2.0/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    expect(body.token_endpoint).toBe(endpoint.tokenUrl);
    for (const key of ['issuer', 'jwks_uri', 'authorization_endpoint']) {
      expect(String(body[key]).startsWith(`${endpoint.url}/`)).toBe(true);
    }
  });

  it('serves a client-secret token to MSAL without any request leaving 127.0.0.1', async () => {
    const urls: string[] = [];
    const app = msal(urls, { clientSecret: 'test-secret' });
    const result = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(result?.tokenType).toBe('Bearer');
    const claims = decodeJwt(result!.accessToken);
    expect(claims.aud).toBe('https://outlook.office365.com');
    expect(claims.roles).toEqual(['SMTP.SendAsApp']);
    expect(claims.tid).toBe(endpoint.tenantId);
    expect(claims.appid).toBe('test-client');
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url.startsWith(`${endpoint.authorityHost}/`)).toBe(true);
    expect(urls.some((url) => url.startsWith(endpoint.tokenUrl))).toBe(true);

    // MSAL caches the app token: a second call makes no request.
    await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(endpoint.tokenRequests).toBe(1);
  });

  it('serves a certificate-credential token (client assertion) to MSAL', async () => {
    const urls: string[] = [];
    const app = msal(
      urls,
      {
        clientCertificate: {
          thumbprintSha256: pki.clientThumbprintSha256,
          privateKey: pki.clientKeyPem,
        },
      },
      'cert-client',
    );
    const result = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(decodeJwt(result!.accessToken).appid).toBe('cert-client');
    for (const url of urls) expect(url.startsWith(`${endpoint.authorityHost}/`)).toBe(true);
  });

  it('refuses a wrong secret with invalid_client / AADSTS7000215 as Entra does', async () => {
    const app = msal([], { clientSecret: 'wrong' });
    const err = await app.acquireTokenByClientCredential({ scopes: [SCOPE] }).catch((e) => e);
    expect(err.errorCode).toBe('invalid_client');
    expect(err.errorMessage).toMatch(/AADSTS7000215: Invalid client secret provided/);
    expect(endpoint.tokensIssued).toBe(0);
  });

  it('plays scripted faults once each, then serves tokens again', async () => {
    endpoint.failNext('invalid_client');
    const app = msal([], { clientSecret: 'test-secret' });
    const first = await app.acquireTokenByClientCredential({ scopes: [SCOPE] }).catch((e) => e);
    expect(first.errorCode).toBe('invalid_client');
    const second = await app.acquireTokenByClientCredential({ scopes: [SCOPE] });
    expect(second?.accessToken).toBeTruthy();
  });

  it.each([
    ['server_error', 500],
    ['unavailable', 503],
  ] as const)('answers %s with HTTP %i', async (kind, status) => {
    endpoint.failNext(kind);
    const res = await fetch(endpoint.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'test-client',
        client_secret: 'test-secret',
        scope: SCOPE,
      }),
    });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error_codes: number[] }).error_codes).toHaveLength(1);
  });

  it('issues test tokens with overridable claims', async () => {
    const token = await endpoint.issueToken({
      aud: 'https://graph.microsoft.com',
      roles: undefined,
    });
    const claims = decodeJwt(token);
    expect(claims.aud).toBe('https://graph.microsoft.com');
    expect(claims.roles).toBeUndefined();
  });
});
