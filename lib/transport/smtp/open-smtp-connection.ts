/**
 * Opens one authenticated SMTP connection: TCP, greeting, EHLO, STARTTLS (or implicit TLS), EHLO
 * and AUTH as configured. Rejects with nodemailer's error (classified by the caller); a connection
 * that failed half-way is closed here.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SenderConfig } from '../../config/sender-config.ts';
import type { TokenProvider } from '../../types.ts';
import {
  type SmtpTimeoutOverrides,
  type SmtpTlsOverrides,
  smtpConnectionOptions,
} from './smtp-connection-options.ts';
import { connect, loginOAuth2, loginPassword } from './smtp-connection-steps.ts';

export interface OpenConnectionOptions {
  tls?: SmtpTlsOverrides;
  timeouts?: SmtpTimeoutOverrides;
  /** Client name sent with EHLO. @default nodemailer's (the host name) */
  name?: string;
}

/** What an opening attempt did, for the counters: TCP connections and successful logins. */
export interface OpenCounters {
  connections: number;
  logins: number;
}

export async function openSmtpConnection(
  config: SenderConfig,
  tokens: TokenProvider | undefined,
  options: OpenConnectionOptions,
  counters: OpenCounters,
): Promise<SMTPConnection> {
  const { smtp } = config;
  const conn = new SMTPConnection(smtpConnectionOptions(smtp, options));
  counters.connections++;
  // Without a listener an 'error' event would crash the process; the steps reject with it anyway,
  // and whoever keeps the connection watches 'end' (nodemailer emits it after every error too).
  conn.on('error', () => undefined);
  try {
    await connect(conn);
    if (!conn.secure && !smtp.allowPlaintext) {
      // Defence in depth: requireTLS already refuses, but no credential may ever follow a plain connection.
      throw Object.assign(
        new Error('Error upgrading connection with STARTTLS: the session is not encrypted'),
        { code: 'ETLS', command: 'STARTTLS' },
      );
    }
    if (smtp.auth !== 'none') {
      await login(conn, config, tokens);
      counters.logins++;
    }
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

async function login(
  conn: SMTPConnection,
  config: SenderConfig,
  tokens: TokenProvider | undefined,
): Promise<void> {
  const { sender, password } = config;
  if (config.smtp.auth === 'password') return loginPassword(conn, sender, password ?? '');
  if (!tokens)
    throw Object.assign(new Error('Missing credentials for "XOAUTH2": no token provider'), {
      code: 'EAUTH',
      command: 'API',
    });
  try {
    await loginOAuth2(conn, sender, tokens, false);
  } catch (err) {
    // A cached token Exchange refuses (e.g. issued before the app got SMTP.SendAsApp) is fixed
    // by a fresh one: try once more with a renewed token before calling it a configuration error.
    if (!isRefusedToken(err)) throw err;
    await loginOAuth2(conn, sender, tokens, true);
  }
}

/** `535 5.7.3`: Exchange refused the token itself; `5.7.139` (SMTP AUTH disabled, policies) no token fixes. */
function isRefusedToken(err: unknown): boolean {
  const { responseCode, response } = err as { responseCode?: number; response?: unknown };
  return responseCode === 535 && !(typeof response === 'string' && /\b5\.7\.139\b/.test(response));
}
