/**
 * nodemailer SMTPConnection options for the Office 365 profile: STARTTLS required on 587 (AUTH is
 * never sent before TLS), implicit TLS on 465, TLS 1.2+, certificates verified, and timeouts sized
 * for Lambda instead of nodemailer's minutes-long defaults.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import type { SmtpSettings } from '../../config/sender-config.ts';

export interface SmtpTlsOverrides {
  /** Extra trusted CA(s), e.g. for a local capture server. @default the system store (plus NODE_EXTRA_CA_CERTS) */
  ca?: ConnectionOptions['ca'];
}

export interface SmtpTimeoutOverrides {
  /** @default `smtp.connectionTimeoutMs` (10 s) */
  connectionMs?: number;
  /** @default `smtp.greetingTimeoutMs` (10 s) */
  greetingMs?: number;
  /** @default `smtp.socketTimeoutMs` (30 s) */
  socketMs?: number;
}

export function smtpConnectionOptions(
  smtp: SmtpSettings,
  overrides: { tls?: SmtpTlsOverrides; timeouts?: SmtpTimeoutOverrides; name?: string } = {},
): SMTPConnectionOptions {
  const implicit = smtp.tls === 'implicit';
  const tls: ConnectionOptions = { minVersion: 'TLSv1.2', rejectUnauthorized: true };
  if (overrides.tls?.ca) tls.ca = overrides.tls.ca;
  // SNI with the host name; Node refuses an IP address as servername (the certificate is still checked against it).
  if (!isIP(smtp.host)) tls.servername = smtp.host;
  const connectionTimeout = overrides.timeouts?.connectionMs ?? smtp.connectionTimeoutMs;
  const options: SMTPConnectionOptions = {
    host: smtp.host,
    port: smtp.port,
    secure: implicit,
    // Without TLS, nodemailer refuses to go on: no AUTH, no MAIL. Only a loopback capture server
    // with SMTP_AUTH=none may stay in plain text (see SmtpSettings.allowPlaintext).
    requireTLS: !implicit && !smtp.allowPlaintext,
    opportunisticTLS: !implicit && smtp.allowPlaintext,
    tls,
    connectionTimeout,
    dnsTimeout: connectionTimeout,
    greetingTimeout: overrides.timeouts?.greetingMs ?? smtp.greetingTimeoutMs,
    socketTimeout: overrides.timeouts?.socketMs ?? smtp.socketTimeoutMs,
    // After QUIT, do not hold the Lambda for nodemailer's default 5 s waiting for the server's FIN.
    socketCloseTimeout: 1_000,
    // nodemailer's own logging could include message data; the session logs what matters itself.
    logger: false,
  };
  if (overrides.name) options.name = overrides.name;
  return options;
}
