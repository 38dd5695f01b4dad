/**
 * Who may do what in the Graph emulator, decided the way Exchange Online does for app-only tokens:
 * the JWT must be signed by the tenant's token endpoint, be for this Graph host (`aud`) and this
 * tenant (`tid`); the app may then act on a mailbox when Entra consented the permission tenant-wide
 * (the role is in the token: every mailbox) or when an RBAC for Applications assignment puts the
 * mailbox in its scope (nothing in the token: Exchange keeps the assignments).
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { MAIL_SEND_ROLE } from './token-endpoint.ts';

export const MAIL_READ_WRITE_ROLE = 'Mail.ReadWrite';

/** RBAC for Applications of one app: mailboxes in the scope of each role assignment. */
export interface GraphAppAccess {
  /** `New-ManagementRoleAssignment -Role "Application Mail.Send" -CustomResourceScope …` */
  mailSend?: string[];
  /** `… -Role "Application Mail.ReadWrite" …` (drafts, attachments, upload sessions). */
  mailReadWrite?: string[];
}

export type GraphPermission = 'send' | 'readWrite';

export type TokenDecision =
  | { ok: true; appId: string; roles: string[] }
  | { ok: false; status: 401; code: string; message: string };

export interface GraphAuthOptions {
  jwks: JSONWebKeySet;
  tenantId: string;
  /** `aud` a token must carry: the emulator's own origin, as Graph's is `https://graph.microsoft.com`. */
  audience: () => string;
  rbac: Record<string, GraphAppAccess>;
}

export function createGraphAuth(options: GraphAuthOptions) {
  const keys = createLocalJWKSet(options.jwks);
  return {
    async checkToken(authorization: string | undefined): Promise<TokenDecision> {
      const refuse = (message: string): TokenDecision => ({
        ok: false,
        status: 401,
        code: 'InvalidAuthenticationToken',
        message,
      });
      if (!authorization?.startsWith('Bearer ')) return refuse('Access token is empty.');
      try {
        const { payload } = await jwtVerify(authorization.slice(7), keys, {
          algorithms: ['RS256'],
          audience: options.audience(),
        });
        if (payload.tid !== options.tenantId) {
          return refuse('Access token validation failure. Invalid tenant.');
        }
        const appId = String(payload.appid ?? payload.azp ?? '');
        const roles = Array.isArray(payload.roles) ? (payload.roles as string[]) : [];
        return { ok: true, appId, roles };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ERR_JWT_EXPIRED')
          return refuse('Lifetime validation failed, the token is expired.');
        if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
          return refuse('Access token validation failure. Invalid audience.');
        }
        return refuse('Access token validation failure.');
      }
    },
    /** Tenant-wide consent (a role in the token) or the mailbox in the app's RBAC scope. */
    allows(
      token: { appId: string; roles: string[] },
      mailbox: string,
      permission: GraphPermission,
    ) {
      const role = permission === 'send' ? MAIL_SEND_ROLE : MAIL_READ_WRITE_ROLE;
      if (token.roles.includes(role)) return true;
      const access = options.rbac[token.appId];
      const scope = permission === 'send' ? access?.mailSend : access?.mailReadWrite;
      return scope?.some((m) => m.toLowerCase() === mailbox) ?? false;
    },
  };
}
