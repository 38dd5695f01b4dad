import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { clearTokenProviderCache, createTokenProvider } from '../../lib/auth/token-provider.ts';
import type { OAuthSettings } from '../../lib/config/sender-config.ts';
import { classifySmtpFailure } from '../../lib/transport/smtp/classify-smtp-failure.ts';

const OAUTH: OAuthSettings = {
  tenantId: 'contoso.onmicrosft.com',
  clientId: '66666666-7777-8888-9999-000000000000',
  authorityHost: 'https://login.microsoftonline.com',
  scope: 'https://outlook.office365.com/.default',
  clientSecret: 'not-a-real-secret',
};

/** Answers every request like Entra answers an unknown tenant's OpenID metadata request. */
function unknownTenantNetwork(seen: string[]): INetworkModule {
  const answer = async <T>(url: string): Promise<NetworkResponse<T>> => {
    seen.push(url);
    return {
      headers: {},
      status: 400,
      body: {
        error: 'invalid_tenant',
        error_description:
          "AADSTS90002: Tenant 'contoso.onmicrosft.com' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
        error_codes: [90002],
      } as T,
    };
  };
  return { sendGetRequestAsync: answer, sendPostRequestAsync: answer };
}

beforeEach(() => clearTokenProviderCache());

describe('token provider errors', () => {
  it("keeps Entra's answer to a failed metadata request (MSAL alone says only openid_config_error)", async () => {
    const seen: string[] = [];
    const provider = createTokenProvider(OAUTH, { networkClient: unknownTenantNetwork(seen) });
    const err = await provider.getAccessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'TokenAcquisitionError',
      errorCode: 'invalid_tenant',
      aadsts: 'AADSTS90002',
      httpStatus: 400,
    });
    expect(classifySmtpFailure(err)).toMatchObject({
      failureClass: 'config',
      entry: { id: 'token-tenant-not-found' },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((url) => url.startsWith('https://login.microsoftonline.com/'))).toBe(true);
  });

  it('refuses to build without OAuth settings', () => {
    expect(() => createTokenProvider(undefined)).toThrow(/SMTP_AUTH=oauth2/);
  });
});
