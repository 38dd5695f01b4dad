/**
 * MSAL's throttling cache: after the token endpoint answered 5xx (or 429), MSAL refuses further
 * requests for the same token for a while without calling Entra. That is still the outage, so the
 * sender retries; it is not a configuration error (a wrong secret or tenant).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TokenAcquisitionError } from '../../lib/auth/token-acquisition-error.ts';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import { classifyGraphFailure } from '../../lib/transport/graph/classify-graph-failure.ts';
import { classifySmtpFailure } from '../../lib/transport/smtp/classify-smtp-failure.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';

let entra: TokenEndpoint;
beforeAll(async () => {
  entra = await startTokenEndpoint();
  clearTokenProviderCache();
});
afterAll(() => entra.stop());

it('reports a request MSAL holds back after a 500 as the outage it is: retried, not a configuration error', async () => {
  const provider = createTokenProvider({
    tenantId: entra.tenantId,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    authorityHost: entra.authorityHost,
    scope: 'https://outlook.office365.com/.default',
  });
  entra.failNext('server_error');
  const first = await provider.getAccessToken().catch((e: TokenAcquisitionError) => e);
  const requests = entra.tokenRequests;
  const second = await provider.getAccessToken().catch((e: TokenAcquisitionError) => e);
  // MSAL did not ask Entra again: the answer came from its throttling cache.
  expect(entra.tokenRequests).toBe(requests);
  for (const err of [first, second] as TokenAcquisitionError[]) {
    expect(err.transient).toBe(true);
    expect(classifySmtpFailure(err)).toMatchObject({
      failureClass: 'retry',
      entry: { id: 'token-unavailable' },
    });
    expect(classifyGraphFailure(err).failureClass).toBe('retry');
  }
  expect((second as TokenAcquisitionError).description).toContain('AADSTS50000');
});
