/**
 * Opens one authenticated SMTP connection: TCP, greeting, EHLO, STARTTLS (or implicit TLS), EHLO
 * and AUTH as configured, all by nodemailer; then hands the socket to the transaction layer
 * (`smtp-pipeline.ts`). Rejects with nodemailer's error (classified by the caller); a connection
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
import { parseEhloExtensions } from './smtp-extensions.ts';
import { SmtpPipeline } from './smtp-pipeline.ts';

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
): Promise<SmtpPipeline> {
  const { smtp } = config;
  const conn = new SMTPConnection(smtpConnectionOptions(smtp, options));
  counters.connections++;
  // Without a listener an 'error' event would crash the process; the steps reject with it anyway,
  // and whoever keeps the connection watches 'end' (nodemailer emits it after every error too).
  conn.on('error', () => undefined);
  let pipeline: SmtpPipeline;
  try {
    await connect(conn);
    // Right after connect, nodemailer's last reply is the EHLO that counts (after STARTTLS).
    const extensions = parseEhloExtensions(conn.lastServerResponse);
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
    pipeline = new SmtpPipeline(takeOverSocket(conn), extensions, {
      secure: conn.secure,
      socketTimeoutMs: options.timeouts?.socketMs ?? smtp.socketTimeoutMs,
    });
  } catch (err) {
    conn.close();
    throw err;
  }
  return pipeline;
}

/** The socket listeners nodemailer's SMTPConnection keeps on its (TLS) socket once connected. */
const NODEMAILER_LISTENERS = [
  ['data', '_onSocketData'],
  ['timeout', '_onSocketTimeout'],
  ['close', '_onSocketClose'],
  ['end', '_onSocketEnd'],
  ['error', '_onSocketError'],
] as const;

/**
 * Detaches nodemailer from an authenticated connection and returns its socket. nodemailer has no
 * public way to hand a connection over, so this removes the listeners it keeps (the bound handlers
 * it stores on the instance) and checks that nothing of the AUTH exchange is left unread. A
 * nodemailer that no longer looks like this fails here, loudly, before any message is written
 * (the tests open connections through this path on every run).
 */
function takeOverSocket(conn: SMTPConnection): import('node:net').Socket {
  const internals = conn as unknown as Record<string, unknown> & {
    _socket: import('node:net').Socket;
    _remainder?: unknown;
    _responseQueue?: unknown;
  };
  const socket = internals._socket;
  const unread =
    (typeof internals._remainder === 'string' && internals._remainder.length > 0) ||
    (Array.isArray(internals._responseQueue) && internals._responseQueue.length > 0);
  const listeners = NODEMAILER_LISTENERS.map(([event, name]) => [event, internals[name]] as const);
  const attached = listeners.every(
    ([event, listener]) =>
      typeof listener === 'function' && socket.listeners(event).includes(listener),
  );
  if (!socket || unread || !attached) {
    throw Object.assign(
      new Error('Cannot take the SMTP connection over from nodemailer (its internals changed)'),
      { code: 'EPROTOCOL', command: 'CONN' },
    );
  }
  for (const [event, listener] of listeners) {
    socket.removeListener(event, listener as (...args: unknown[]) => void);
  }
  return socket;
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
