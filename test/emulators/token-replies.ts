import { randomUUID } from 'node:crypto';

/** A scripted token-endpoint failure (see `TokenEndpoint.failNext`). */
export type TokenFault = 'invalid_client' | 'server_error' | 'unavailable';

/** An HTTP answer of the emulated Entra token endpoint. */
export interface TokenHttpReply {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

function entraError(
  status: number,
  error: string,
  code: number,
  description: string,
): TokenHttpReply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    status,
    body: {
      error,
      // Entra appends trace/correlation ids and a timestamp to every description.
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    },
  };
}

/** `invalid_client` exactly as Entra answers a wrong client secret (HTTP 401, AADSTS7000215). */
export function invalidClientSecret(clientId: string): TokenHttpReply {
  return entraError(
    401,
    'invalid_client',
    7000215,
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  );
}

/** A client assertion (certificate credential) that does not verify (AADSTS700027). */
export function invalidClientAssertion(detail: string): TokenHttpReply {
  return entraError(
    401,
    'invalid_client',
    700027,
    `Client assertion failed signature validation. (${detail})`,
  );
}

/** An unknown client id (AADSTS700016). */
export function unknownClient(clientId: string, tenantId: string): TokenHttpReply {
  return entraError(
    400,
    'unauthorized_client',
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  );
}

/** A scope that is not `<resource>/.default` in the client-credentials grant (AADSTS1002012). */
export function invalidScope(scope: string): TokenHttpReply {
  return entraError(
    400,
    'invalid_scope',
    1002012,
    `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  );
}

/** A malformed request (missing grant type, client id or credential; AADSTS900144). */
export function invalidRequest(what: string): TokenHttpReply {
  return entraError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${what}'.`,
  );
}

/** The answer for a scripted fault. */
export function faultReply(fault: TokenFault, clientId: string): TokenHttpReply {
  switch (fault) {
    case 'invalid_client':
      return invalidClientSecret(clientId);
    case 'server_error':
      return entraError(
        500,
        'server_error',
        50000,
        'There was an error issuing a token or an issue with our sign-in service.',
      );
    case 'unavailable': {
      const reply = entraError(
        503,
        'temporarily_unavailable',
        50012,
        'The service is temporarily unavailable.',
      );
      return { ...reply, headers: { 'retry-after': '1' } };
    }
  }
}
