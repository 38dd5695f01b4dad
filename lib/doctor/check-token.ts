import { createTokenProvider } from '../auth/token-provider.ts';
import type { OAuthSettings } from '../config/sender-config.ts';
import { failed, failureFromError, ok, type StepFailure, type StepResult } from './doctor-step.ts';
import type { TokenExpectation } from './token-expectation.ts';

/** What the token says about itself (decoded, not verified: only Office 365 can verify it). */
export interface TokenClaims {
  aud?: string;
  roles?: string[];
  scp?: string;
  tid?: string;
  appid?: string;
  exp?: number;
}

/**
 * Step 5: asks Entra for an app-only token as the sender would, then reads its claims against
 * what the door wants ({@link TokenExpectation}): the audience (Exchange, or the Graph endpoint)
 * and the role. A wrong audience, or HVE's token without `Mail.Send`, is refused by the server,
 * whose plain words and fix come from the door's failure table. A token without `SMTP.SendAsApp`
 * only warns: with RBAC for Applications Exchange grants it and the token never shows it, so
 * the AUTH step decides.
 */
export async function checkToken(
  oauth: OAuthSettings,
  expect: TokenExpectation,
  explainError: (error: unknown) => StepFailure = failureFromError,
): Promise<{ result: StepResult; token?: string }> {
  let token: string;
  try {
    token = await createTokenProvider(oauth).getAccessToken(true);
  } catch (error) {
    return { result: failed('token', explainError(error)) };
  }
  const claims = decodeJwtPayload(token);
  if (!claims) {
    return {
      result: failed(
        'token',
        expect.explain('the token endpoint answered with something that is not a JWT'),
      ),
    };
  }
  const minutes = claims.exp ? Math.round((claims.exp * 1000 - Date.now()) / 60_000) : undefined;
  const details = [
    `issued for app ${claims.appid ?? '?'} in tenant ${claims.tid ?? '?'}${minutes === undefined ? '' : `, valid for ${minutes} min`}`,
    `aud ${claims.aud ?? '(none)'}`,
    `roles ${claims.roles?.length ? claims.roles.join(', ') : '(none)'}`,
  ];
  const problems: string[] = [];
  const required = expect.requiredRole;
  if (required && !claims.roles?.includes(required.role)) {
    problems.push(`the token has no ${required.role} role: ${required.fix}`);
  }
  if (!claims.aud || !expect.audienceOk(claims.aud))
    problems.push(expect.audienceProblem(claims.aud));
  if (problems.length > 0) {
    return { result: failed('token', expect.explain(problems.join('; ')), details), token };
  }
  const warnings: string[] = [];
  const warned = expect.warnRole;
  if (warned && claims.roles?.includes(warned.role)) warnings.push(warned.warning);
  const expected = expect.expectedRole;
  if (expected && !claims.roles?.includes(expected.role)) warnings.push(expected.warning);
  return { result: ok('token', details, warnings), token };
}

/** The JWT's payload, or undefined when it is not a JWT. Never verifies (Office 365 does). */
export function decodeJwtPayload(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    return typeof payload === 'object' && payload !== null ? payload : undefined;
  } catch {
    return undefined;
  }
}
