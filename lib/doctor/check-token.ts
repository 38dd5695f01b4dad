import { createTokenProvider } from '../auth/token-provider.ts';
import type { OAuthSettings } from '../config/sender-config.ts';
import { OFFICE365_REPLIES } from '../transport/smtp/office365-replies.ts';
import { failed, failureFromError, failureFromRow, ok, type StepResult } from './doctor-step.ts';

/** The app-only permission Office 365 wants in the token's `roles`. */
export const SEND_AS_APP_ROLE = 'SMTP.SendAsApp';
/** Audiences Exchange Online accepts: its resource URL (each cloud) or its application id. */
const EXCHANGE_AUDIENCE =
  /^(https:\/\/outlook\.office365\.(com|us)|https:\/\/outlook-dod\.office365\.us|https:\/\/partner\.outlook\.cn|00000002-0000-0ff1-ce00-000000000000)\/?$/i;

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
 * Step 5: asks Entra for an app-only token as the sender would, then reads its claims: is
 * `SMTP.SendAsApp` in `roles`, is the audience Exchange? A token without them is refused at
 * AUTH with `535 5.7.3`, whose plain words and fix come from the failure table.
 */
export async function checkToken(
  oauth: OAuthSettings,
): Promise<{ result: StepResult; token?: string }> {
  let token: string;
  try {
    token = await createTokenProvider(oauth).getAccessToken(true);
  } catch (error) {
    return { result: failed('token', failureFromError(error)) };
  }
  const claims = decodeJwtPayload(token);
  if (!claims) {
    return {
      result: failed(
        'token',
        failureFromRow(
          authUnsuccessful(),
          'the token endpoint answered with something that is not a JWT',
        ),
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
  if (!claims.roles?.includes(SEND_AS_APP_ROLE)) {
    problems.push(
      `the token has no ${SEND_AS_APP_ROLE} role: grant the app the Office 365 Exchange Online application permission ${SEND_AS_APP_ROLE} and admin consent (or an App RBAC assignment)`,
    );
  }
  if (!claims.aud || !EXCHANGE_AUDIENCE.test(claims.aud)) {
    problems.push(
      `the token is for ${claims.aud ?? 'no audience'}, not Exchange Online: set O365_SCOPE to https://outlook.office365.com/.default (the default)`,
    );
  }
  if (problems.length > 0) {
    return {
      result: failed('token', failureFromRow(authUnsuccessful(), problems.join('; ')), details),
      token,
    };
  }
  return { result: ok('token', details), token };
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

/** The `535 5.7.3` row: what Office 365 answers at AUTH to a token without the role or audience. */
function authUnsuccessful(): string {
  return (
    OFFICE365_REPLIES.find((row) => row.id === 'auth-unsuccessful')?.example ??
    '535 5.7.3 Authentication unsuccessful'
  );
}
