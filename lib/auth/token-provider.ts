/**
 * App-only OAuth 2.0 tokens for XOAUTH2, from Microsoft Entra ID through MSAL's client-credentials
 * flow. One `ConfidentialClientApplication` per app configuration lives at module scope, so its
 * in-memory token cache survives warm Lambda invocations; MSAL renews a token 5 minutes before it
 * expires. Failures become a {@link TokenAcquisitionError} with Entra's error code and AADSTS text.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  ConfidentialClientApplication,
  type Configuration,
  type INetworkModule,
} from '@azure/msal-node';
import type { OAuthSettings } from '../config/sender-config.ts';
import type { TokenProvider } from '../types.ts';
import { RecordingNetworkClient } from './msal-network-client.ts';
import { TokenAcquisitionError } from './token-acquisition-error.ts';

/** Hosts MSAL knows (public and sovereign clouds); anything else is given to MSAL as a known authority. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.usgovcloudapi.net',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

export interface TokenProviderOptions {
  /** HTTP client for MSAL. @default `fetch` with a timeout on every request */
  networkClient?: INetworkModule;
  /** Timeout of each request to the token endpoint. @default 10000 */
  requestTimeoutMs?: number;
}

/** A token provider that also exposes what it asked the network, for tests and `doctor`. */
export interface MsalTokenProvider extends TokenProvider {
  /** Every request MSAL made through this app (shared by providers of the same configuration). */
  readonly requests: readonly string[];
}

interface CachedApp {
  app: ConfidentialClientApplication;
  network: RecordingNetworkClient;
}

const apps = new Map<string, CachedApp>();
const CERTIFICATE_ERROR =
  /CERT_|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME/;
const networkClientIds = new WeakMap<INetworkModule, number>();

/** Builds (or reuses) the MSAL app for `oauth` and returns a provider of access tokens for `oauth.scope`. */
export function createTokenProvider(
  oauth: OAuthSettings | undefined,
  options: TokenProviderOptions = {},
): MsalTokenProvider {
  if (!oauth)
    throw new TypeError('createTokenProvider needs the OAuth settings (SMTP_AUTH=oauth2).');
  const cached = appFor(oauth, options);
  return {
    get requests() {
      return cached.network.requests;
    },
    async getAccessToken(renew = false) {
      try {
        const result = await cached.app.acquireTokenByClientCredential({
          scopes: [oauth.scope],
          skipCache: renew,
        });
        if (!result?.accessToken) {
          throw new TokenAcquisitionError({
            errorCode: 'no_token',
            description: 'The token endpoint answered without an access token.',
          });
        }
        return result.accessToken;
      } catch (err) {
        if (err instanceof TokenAcquisitionError) throw err;
        throw toTokenAcquisitionError(err, cached.network);
      }
    },
  };
}

/** Forgets every cached MSAL app (tests; a new secret is picked up by its new cache key anyway). */
export function clearTokenProviderCache(): void {
  apps.clear();
}

function appFor(oauth: OAuthSettings, options: TokenProviderOptions): CachedApp {
  const key = cacheKey(oauth, options.networkClient);
  let cached = apps.get(key);
  if (!cached) {
    const network = new RecordingNetworkClient(options.networkClient, options.requestTimeoutMs);
    cached = { app: new ConfidentialClientApplication(msalConfiguration(oauth, network)), network };
    apps.set(key, cached);
  }
  return cached;
}

/** The credential is part of the key (hashed), so a rotated secret gets a fresh app and cache. */
function cacheKey(oauth: OAuthSettings, networkClient: INetworkModule | undefined): string {
  const credential = createHash('sha256')
    .update(oauth.clientSecret ?? `${oauth.clientCertificate}\n${oauth.clientPrivateKey}`)
    .digest('hex');
  let clientId = 0;
  if (networkClient) {
    clientId =
      networkClientIds.get(networkClient) ??
      networkClientIds.set(networkClient, Math.random()).get(networkClient)!;
  }
  return [oauth.authorityHost, oauth.tenantId, oauth.clientId, credential, clientId].join('|');
}

export function msalConfiguration(
  oauth: OAuthSettings,
  networkClient: INetworkModule,
): Configuration {
  const authorityUrl = new URL(oauth.authorityHost);
  const auth: Configuration['auth'] = {
    clientId: oauth.clientId,
    authority: `${authorityUrl.origin}/${oauth.tenantId}`,
  };
  if (!MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname)) {
    // MSAL then reads the OpenID metadata from this host and skips instance discovery on
    // login.microsoftonline.com: nothing is sent to a Microsoft host.
    auth.knownAuthorities = [authorityUrl.host];
  }
  if (oauth.clientSecret) {
    auth.clientSecret = oauth.clientSecret;
  } else if (oauth.clientCertificate && oauth.clientPrivateKey) {
    auth.clientCertificate = {
      thumbprintSha256: new X509Certificate(oauth.clientCertificate).fingerprint256.replaceAll(
        ':',
        '',
      ),
      privateKey: oauth.clientPrivateKey,
      x5c: oauth.clientCertificate,
    };
  }
  return { auth, system: { networkClient } };
}

/** Maps MSAL's errors (and the network client's record of what failed) to Entra's own words. */
function toTokenAcquisitionError(
  err: unknown,
  network: RecordingNetworkClient,
): TokenAcquisitionError {
  const e = (err ?? {}) as {
    errorCode?: string;
    errorMessage?: string;
    message?: string;
    status?: number;
    name?: string;
  };
  const errorCode = e.errorCode || 'unknown_error';
  // After a 429 or 5xx, MSAL answers every request for the same token from its throttling cache
  // (up to Retry-After, else 60 s) without calling Entra: a ServerError whose code is the earlier
  // answer's AADSTS numbers ("50000"), with no status. It is that outage still, not a refusal.
  if (/^\d+( \d+)*$/.test(errorCode) && e.status === undefined) {
    return new TokenAcquisitionError(
      {
        errorCode: 'temporarily_unavailable',
        description: `MSAL holds token requests back after the token endpoint's last answer (${errorCode}): ${e.errorMessage ?? e.message ?? ''}`,
      },
      { cause: err },
    );
  }
  if (
    errorCode === 'openid_config_error' ||
    errorCode === 'endpoints_resolution_error' ||
    errorCode === 'network_error'
  ) {
    const failure = network.lastFailure;
    if (failure?.body && failure.status) {
      const body = failure.body as { error?: string; error_description?: string };
      return new TokenAcquisitionError(
        {
          errorCode: body.error ?? errorCode,
          description:
            body.error_description ??
            `${failure.method} ${failure.url} answered HTTP ${failure.status}`,
          httpStatus: failure.status,
        },
        { cause: err },
      );
    }
    const reason = failure?.error
      ? describeNetworkError(failure.error)
      : (e.errorMessage ?? e.message ?? '');
    // An untrusted certificate will not fix itself: it is a configuration error, not an outage.
    if (CERTIFICATE_ERROR.test(reason)) {
      return new TokenAcquisitionError(
        {
          errorCode: 'tls_certificate_error',
          description: `The token endpoint's certificate does not verify: ${reason}`,
        },
        { cause: err },
      );
    }
    return new TokenAcquisitionError(
      { errorCode: 'network_error', description: `Could not reach the token endpoint: ${reason}` },
      { cause: err },
    );
  }
  const description = e.errorMessage || e.message || String(err);
  const details = {
    errorCode,
    description,
    ...(e.status !== undefined && { httpStatus: e.status }),
  };
  return new TokenAcquisitionError(details, { cause: err });
}

/** `fetch failed` says nothing; its cause says what happened (refused, certificate, timeout). */
function describeNetworkError(err: Error): string {
  const parts = [`${err.name}: ${err.message}`];
  let cause = err.cause;
  for (let i = 0; i < 3 && cause instanceof Error; i++) {
    const code = (cause as { code?: unknown }).code;
    parts.push(
      typeof code === 'string' && !cause.message.includes(code)
        ? `${code} ${cause.message}`
        : cause.message,
    );
    cause = cause.cause;
  }
  return parts.join(' / ');
}
