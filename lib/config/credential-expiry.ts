/**
 * Credential health: when the credential the sender authenticates with expires. A certificate
 * says so itself (`O365_CLIENT_CERTIFICATE`'s notAfter); a client secret or a password only when
 * its owner wrote it down (`expiresAt` in the secret, or `MAIL_CREDENTIAL_EXPIRES_AT`). Entra
 * client secrets live at most two years, and one that lapses unnoticed stops all mail at once.
 */
import { X509Certificate } from 'node:crypto';
import type { SenderConfig } from './sender-config.ts';

export interface CredentialExpiry {
  credential: 'client certificate' | 'client secret' | 'password';
  expiresAt: Date;
  /** Whole days left, rounded down; negative once it expired. */
  daysLeft: number;
}

/** Below this many days left the sender warns, `doctor` warns and the stack's alarm fires. */
export const CREDENTIAL_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;

/** The expiry of the configured credential, or undefined when none is known (or none is used). */
export function credentialExpiry(
  config: SenderConfig,
  now: number = Date.now(),
): CredentialExpiry | undefined {
  const found = expiryOf(config);
  if (!found) return undefined;
  return { ...found, daysLeft: Math.floor((found.expiresAt.getTime() - now) / DAY_MS) };
}

function expiryOf(config: SenderConfig): Omit<CredentialExpiry, 'daysLeft'> | undefined {
  const { oauth } = config;
  if (oauth?.clientCertificate) {
    const expiresAt = new Date(new X509Certificate(oauth.clientCertificate).validTo);
    return { credential: 'client certificate', expiresAt };
  }
  if (!config.credentialExpiresAt) return undefined;
  if (oauth?.clientSecret)
    return { credential: 'client secret', expiresAt: config.credentialExpiresAt };
  if (config.password !== undefined) {
    return { credential: 'password', expiresAt: config.credentialExpiresAt };
  }
  return undefined;
}

/** `the client secret expires on 2027-03-01 (in 88 days)`, or `expired on … (3 days ago)`. */
export function describeCredentialExpiry(expiry: CredentialExpiry): string {
  const day = expiry.expiresAt.toISOString().slice(0, 10);
  if (expiry.daysLeft < 0) {
    const ago = -expiry.daysLeft;
    return `the ${expiry.credential} expired on ${day} (${ago} day${ago === 1 ? '' : 's'} ago)`;
  }
  const left = expiry.daysLeft;
  return `the ${expiry.credential} expires on ${day} (in ${left} day${left === 1 ? '' : 's'})`;
}

/** What to do about a credential that expires soon, for the warning. */
export function renewalFix(expiry: CredentialExpiry): string {
  switch (expiry.credential) {
    case 'client certificate':
      return 'upload a new certificate to the Entra app registration and put it and its key in O365_CLIENT_CERTIFICATE / O365_CLIENT_PRIVATE_KEY (the MAIL_SECRET_ARN secret)';
    case 'client secret':
      return 'create a new client secret in the Entra app registration and put it in O365_CLIENT_SECRET with its new expiresAt (the MAIL_SECRET_ARN secret)';
    case 'password':
      return 'change the mailbox password, put it in SMTP_PASSWORD with its new expiresAt, and consider SMTP_AUTH=oauth2';
    default: {
      const unknown: never = expiry.credential;
      throw new Error(`unknown credential ${String(unknown)}`);
    }
  }
}
