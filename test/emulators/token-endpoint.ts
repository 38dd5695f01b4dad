import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from 'jose';
import { loadTestPki } from './test-pki.ts';
import { verifyClientAssertion } from './token-client-assertion.ts';
import {
  faultReply,
  invalidClientSecret,
  invalidRequest,
  invalidScope,
  type TokenFault,
  type TokenHttpReply,
  unknownClient,
} from './token-replies.ts';

export type { TokenFault } from './token-replies.ts';

/** An app registration known to the emulated tenant. */
export interface TokenClient {
  /** Client secret; when unset the client cannot use a secret. */
  secret?: string;
  /** PEM certificate whose key signs the client assertion; when unset no certificate credential. */
  certificatePem?: string;
  /** App roles put in issued tokens. @default ['SMTP.SendAsApp'] */
  roles?: string[];
  /**
   * App roles per resource, as Entra issues them (an app's Graph token carries its Graph roles,
   * its Exchange token its Exchange roles); wins over `roles`. See {@link rolesPerResource}.
   */
  rolesFor?: (audience: string) => string[];
}

export interface TokenEndpointOptions {
  /** @default 'test-tenant' */
  tenantId?: string;
  /** @default { 'test-client': { secret: 'test-secret', roles: ['SMTP.SendAsApp'] } } */
  clients?: Record<string, TokenClient>;
  /** `expires_in` and the token's lifetime. @default 3599 */
  tokenLifetimeSeconds?: number;
  /** @default 0 (a free port) */
  port?: number;
}

/** A running Entra-like token endpoint on https://127.0.0.1:<port>. */
export interface TokenEndpoint {
  /** `https://127.0.0.1:<port>` — MSAL `knownAuthorities` entry is its host, `127.0.0.1:<port>`. */
  authorityHost: string;
  /** `127.0.0.1:<port>` (for MSAL `knownAuthorities`). */
  knownAuthority: string;
  tenantId: string;
  /** The authority for MSAL: `https://127.0.0.1:<port>/<tenant>`. */
  url: string;
  /** `https://127.0.0.1:<port>/<tenant>/oauth2/v2.0/token` */
  tokenUrl: string;
  /** The OpenID metadata served at `/<tenant>/v2.0/.well-known/openid-configuration`. */
  openIdConfiguration: Record<string, unknown>;
  /** The `iss` of issued access tokens (`https://sts.windows.net/<tenant>/`, as Entra v1 tokens). */
  issuer: string;
  /** Number of POSTs to the token URL (including refused ones). */
  readonly tokenRequests: number;
  /** Tokens issued (successful token responses). */
  readonly tokensIssued: number;
  /** Every request seen, in order (`GET /test-tenant/v2.0/.well-known/openid-configuration`, ...). */
  readonly requests: readonly string[];
  /** Public signing keys (also served at `/<tenant>/discovery/v2.0/keys`). */
  jwks: JSONWebKeySet;
  /**
   * Signs an access token like the ones the endpoint issues (aud Exchange, roles SMTP.SendAsApp,
   * valid for the lifetime); `claims` override or add claims (`{ exp: 0 }`, `{ aud: '...' }`,
   * `{ roles: [] }`; `undefined` values drop a claim).
   */
  issueToken(claims?: JWTPayload, clientId?: string): Promise<string>;
  /** Answers the next `times` token requests with a failure instead of a token. */
  failNext(kind: TokenFault, times?: number): void;
  /** Clears counters and scripted faults. */
  reset(): void;
  stop(): Promise<void>;
}

/** The audience Exchange Online expects in an SMTP access token. */
export const EXCHANGE_AUDIENCE = 'https://outlook.office365.com';
/** The app role that lets a client-credentials token send through SMTP AUTH. */
export const SMTP_SEND_AS_APP_ROLE = 'SMTP.SendAsApp';
/** The Graph (and Exchange, for HVE) application permission to send mail, when consented in Entra. */
export const MAIL_SEND_ROLE = 'Mail.Send';

/**
 * `rolesFor` of an app consented for `exchange` roles on Exchange Online and `other` roles on every
 * other resource (Graph, whatever host the emulator runs on).
 */
export function rolesPerResource(
  exchange: string[],
  other: string[],
): (audience: string) => string[] {
  return (audience) => (audience === EXCHANGE_AUDIENCE ? exchange : other);
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const DEFAULT_CLIENTS: Record<string, TokenClient> = {
  'test-client': { secret: 'test-secret', roles: [SMTP_SEND_AS_APP_ROLE] },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, reply: TokenHttpReply): void {
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store, no-cache',
    ...reply.headers,
  });
  res.end(JSON.stringify(reply.body));
}

/** Starts the token endpoint on 127.0.0.1 with the run's test certificate. */
export async function startTokenEndpoint(
  options: TokenEndpointOptions = {},
): Promise<TokenEndpoint> {
  const tenantId = options.tenantId ?? 'test-tenant';
  const clients = options.clients ?? DEFAULT_CLIENTS;
  const lifetime = options.tokenLifetimeSeconds ?? 3599;
  const pki = loadTestPki();
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwks: JSONWebKeySet = {
    keys: [{ ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }],
  };
  const issuer = `https://sts.windows.net/${tenantId}/`;
  const faults: TokenFault[] = [];
  const requests: string[] = [];
  let tokenRequests = 0;
  let tokensIssued = 0;
  let openIdConfiguration: Record<string, unknown> = {};
  let tokenUrl = '';

  async function issueToken(claims: JWTPayload = {}, clientId = 'test-client'): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const client = clients[clientId];
    const aud = typeof claims.aud === 'string' ? claims.aud : EXCHANGE_AUDIENCE;
    const payload: JWTPayload = {
      aud: EXCHANGE_AUDIENCE,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      tid: tenantId,
      appid: clientId,
      azp: clientId,
      oid: randomUUID(),
      sub: randomUUID(),
      roles: client?.rolesFor?.(aud) ?? client?.roles ?? [SMTP_SEND_AS_APP_ROLE],
      ver: '1.0',
      ...claims,
    };
    for (const [key, value] of Object.entries(payload))
      if (value === undefined) delete payload[key];
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .sign(privateKey);
  }

  async function tokenReply(form: URLSearchParams, req: IncomingMessage): Promise<TokenHttpReply> {
    const clientId = form.get('client_id') ?? basicAuthClient(req)?.id;
    if (form.get('grant_type') !== 'client_credentials') return invalidRequest('grant_type');
    if (!clientId) return invalidRequest('client_id');
    const fault = faults.shift();
    if (fault) return faultReply(fault, clientId);
    const client = clients[clientId];
    if (!client) return unknownClient(clientId, tenantId);
    const scope = form.get('scope') ?? '';
    const resource = scope.split(' ').find((s) => s.endsWith('/.default'));
    if (!resource) return invalidScope(scope);
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== JWT_BEARER)
        return invalidRequest('client_assertion_type');
      const refused = await verifyClientAssertion(assertion, client, clientId, tokenUrl);
      if (refused) return refused;
    } else {
      const secret = form.get('client_secret') ?? basicAuthClient(req)?.secret;
      if (!secret) return invalidRequest('client_assertion or client_secret');
      if (client.secret === undefined || secret !== client.secret) {
        return invalidClientSecret(clientId);
      }
    }
    const aud = resource.slice(0, -'/.default'.length);
    tokensIssued++;
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: await issueToken({ aud }, clientId),
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    requests.push(`${req.method} ${path}`);
    const base = `/${tenantId}`;
    if (req.method === 'GET' && path === `${base}/v2.0/.well-known/openid-configuration`) {
      return sendJson(res, { status: 200, body: openIdConfiguration });
    }
    if (req.method === 'GET' && path === `${base}/discovery/v2.0/keys`) {
      return sendJson(res, { status: 200, body: jwks as unknown as Record<string, unknown> });
    }
    if (req.method === 'POST' && path === `${base}/oauth2/v2.0/token`) {
      tokenRequests++;
      const form = new URLSearchParams(await readBody(req));
      return sendJson(res, await tokenReply(form, req));
    }
    sendJson(res, { status: 404, body: { error: 'not_found', path } });
  }

  const server = createServer({ key: pki.keyPem, cert: pki.certPem, minVersion: 'TLSv1.2' });
  server.on('request', (req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendJson(res, { status: 500, body: { error: 'emulator_bug', message: String(err) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const authorityHost = `https://127.0.0.1:${port}`;
  const url = `${authorityHost}/${tenantId}`;
  tokenUrl = `${url}/oauth2/v2.0/token`;
  openIdConfiguration = openIdMetadata(url, tenantId);

  return {
    authorityHost,
    knownAuthority: `127.0.0.1:${port}`,
    tenantId,
    url,
    tokenUrl,
    openIdConfiguration,
    issuer,
    get tokenRequests() {
      return tokenRequests;
    },
    get tokensIssued() {
      return tokensIssued;
    },
    get requests() {
      return requests;
    },
    jwks,
    issueToken: (claims, clientId) => issueToken(claims, clientId),
    failNext(kind, times = 1) {
      for (let i = 0; i < times; i++) faults.push(kind);
    },
    reset() {
      faults.length = 0;
      requests.length = 0;
      tokenRequests = 0;
      tokensIssued = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function basicAuthClient(req: IncomingMessage): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

/** OpenID metadata shaped like Entra's v2.0 document, every URL pointing at this server. */
function openIdMetadata(url: string, tenantId: string): Record<string, unknown> {
  return {
    token_endpoint: `${url}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      'client_secret_post',
      'private_key_jwt',
      'client_secret_basic',
    ],
    jwks_uri: `${url}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${url}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${url}/openid/userinfo`,
    authorization_endpoint: `${url}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${url}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${url}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'ver', 'oid'],
    kerberos_endpoint: `${url}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
    tenant_id: tenantId,
  };
}
