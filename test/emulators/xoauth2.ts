import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';

/** Why an XOAUTH2 bearer token was refused (all answered `535 5.7.3` like Exchange does). */
export type TokenRefusal =
  | 'no-token-endpoint'
  | 'invalid-token'
  | 'expired'
  | 'wrong-audience'
  | 'missing-role';

export type TokenCheck =
  | { kind: 'valid'; claims: JWTPayload & { appid?: string; roles?: string[] } }
  | {
      kind: 'refused';
      reason: TokenRefusal;
      detail: string;
      /** The signed token's `appid`, when only the role was missing (an RBAC grant may stand in). */
      appId?: string;
    };

export interface TokenVerifierOptions {
  /** The token endpoint's public keys; without them every token is refused. */
  jwks: JSONWebKeySet | undefined;
  audience: string;
  requiredRole: string;
  now: () => number;
}

/** Builds a checker for XOAUTH2 bearer tokens: RS256 signature, `aud`, `exp`/`nbf`, role. */
export function createTokenVerifier(
  options: TokenVerifierOptions,
): (token: string) => Promise<TokenCheck> {
  const keys = options.jwks ? createLocalJWKSet(options.jwks) : undefined;
  return async (token) => {
    if (!keys)
      return { kind: 'refused', reason: 'no-token-endpoint', detail: 'no JWKS configured' };
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        audience: options.audience,
        currentDate: new Date(options.now()),
      });
      const roles = Array.isArray(payload.roles) ? (payload.roles as string[]) : [];
      if (!roles.includes(options.requiredRole)) {
        const appId = payload.appid ?? payload.azp;
        return {
          kind: 'refused',
          reason: 'missing-role',
          detail: `roles ${JSON.stringify(roles)}`,
          ...(typeof appId === 'string' && { appId }),
        };
      }
      return {
        kind: 'valid',
        claims: payload as JWTPayload & { appid?: string; roles?: string[] },
      };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const detail = err instanceof Error ? err.message : String(err);
      if (code === 'ERR_JWT_EXPIRED') return { kind: 'refused', reason: 'expired', detail };
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && /"aud"/.test(detail)) {
        return { kind: 'refused', reason: 'wrong-audience', detail };
      }
      return { kind: 'refused', reason: 'invalid-token', detail };
    }
  };
}
