import { type FrontEnd, O365_REPLIES, trailer } from './office365-replies.ts';
import type { TokenCheck, TokenRefusal } from './xoauth2.ts';

/** A mailbox of the emulated tenant. */
export interface MailboxOptions {
  /** Password for `AUTH LOGIN`; without it LOGIN always fails. */
  password?: string;
  /** `Set-CASMailbox -SmtpClientAuthenticationDisabled $true`: every AUTH gets `535 5.7.139`. */
  smtpAuthDisabled?: boolean;
  /** An authentication policy blocks Basic: `AUTH LOGIN` gets `535 5.7.139 ... basic authentication is disabled.` */
  basicAuthDisabled?: boolean;
  /** Other From addresses this mailbox may send as (Exchange SendAs permission). */
  sendAs?: string[];
  /** App ids (token `appid`) allowed to use this mailbox; when unset every app with the role may. */
  allowedApps?: string[];
  /**
   * App ids given `Application SMTP.SendAsApp` over this mailbox by RBAC for Applications (a
   * management role assignment with a scope): Exchange grants it, so their tokens carry no role.
   */
  rbacApps?: string[];
}

/** Who authenticated on a session (smtp-server's `session.user`). */
export interface AuthenticatedUser {
  mailbox: string;
  method: 'LOGIN' | 'XOAUTH2';
  /** The token's `appid` for XOAUTH2. */
  appId?: string;
}

/** Why an AUTH was refused (for test diagnostics). */
export type AuthRefusalReason =
  | TokenRefusal
  | 'unknown-mailbox'
  | 'smtp-auth-disabled'
  | 'basic-auth-disabled'
  | 'wrong-password'
  | 'app-not-allowed'
  | 'scripted-fault';

export interface AuthRefusal {
  user: string;
  method: string;
  reason: AuthRefusalReason;
  detail?: string;
}

export type AuthOutcome =
  | { kind: 'ok'; user: AuthenticatedUser }
  | { kind: 'refused'; reply: string; refusal: AuthRefusal };

export interface AuthContext {
  mailbox(address: string): MailboxOptions | undefined;
  verifyToken(token: string): Promise<TokenCheck>;
  frontEnd: FrontEnd;
}

/** Decides an AUTH LOGIN or XOAUTH2 attempt the way Exchange Online does. */
export async function authenticate(
  auth: { method: string; username?: string; password?: string | null; accessToken?: string },
  ctx: AuthContext,
): Promise<AuthOutcome> {
  const user = auth.username ?? '';
  const method = auth.method;
  const failed = `${O365_REPLIES.authFailed} ${trailer(ctx.frontEnd)}`;
  const refuse = (reason: AuthRefusalReason, reply = failed, detail?: string): AuthOutcome => ({
    kind: 'refused',
    reply,
    refusal: { user, method, reason, ...(detail ? { detail } : {}) },
  });
  const mailbox = ctx.mailbox(user);
  if (!mailbox) return refuse('unknown-mailbox');
  if (mailbox.smtpAuthDisabled) {
    return refuse('smtp-auth-disabled', O365_REPLIES.smtpAuthDisabledMailbox);
  }
  if (method === 'LOGIN') {
    if (mailbox.basicAuthDisabled) {
      return refuse(
        'basic-auth-disabled',
        `${O365_REPLIES.basicAuthDisabled} ${trailer(ctx.frontEnd)}`,
      );
    }
    if (mailbox.password === undefined || auth.password !== mailbox.password) {
      return refuse('wrong-password');
    }
    return { kind: 'ok', user: { mailbox: user, method: 'LOGIN' } };
  }
  const check = await ctx.verifyToken(auth.accessToken ?? '');
  const rbacGrant =
    check.kind === 'refused' &&
    check.reason === 'missing-role' &&
    check.appId !== undefined &&
    mailbox.rbacApps?.includes(check.appId) === true;
  if (check.kind === 'refused' && !rbacGrant) return refuse(check.reason, failed, check.detail);
  const appId =
    check.kind === 'valid'
      ? (check.claims.appid ?? (check.claims.azp as string | undefined))
      : check.appId;
  if (mailbox.allowedApps && !(appId && mailbox.allowedApps.includes(appId))) {
    return refuse('app-not-allowed', failed, `appid ${appId}`);
  }
  return { kind: 'ok', user: { mailbox: user, method: 'XOAUTH2', ...(appId ? { appId } : {}) } };
}
