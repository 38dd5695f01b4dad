/**
 * One authenticated SMTP session for a whole batch: connect and authenticate lazily on the first
 * message, send every message of the batch over the same connection, and reconnect only after the
 * connection itself failed.
 *
 * Built on nodemailer's SMTPConnection rather than its pool on purpose: the pool discards a
 * connection after ANY failed send (even one 550 for an unknown recipient), which would cost a new
 * TLS + AUTH handshake mid-batch; here a refused message is followed by RSET and the session goes on.
 */

import type Mail from 'nodemailer/lib/mailer/index.js';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SenderConfig } from '../config.ts';
import type { MailSession, SendOutcome, TokenProvider } from '../types.ts';
import { classificationToOutcome, classifySmtpFailure } from './classify-smtp-failure.ts';
import { type ComposedMime, composeMime } from './compose-mime.ts';
import {
  type SmtpTimeoutOverrides,
  type SmtpTlsOverrides,
  smtpConnectionOptions,
} from './smtp-connection-options.ts';
import {
  connect,
  loginOAuth2,
  loginPassword,
  quit,
  reset,
  sendMessage,
} from './smtp-connection-steps.ts';

/** The subset of a structured logger (Powertools Logger fits) the session writes to. */
export interface SessionLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface SmtpSessionOptions {
  /** Where connection events, refused recipients and the configuration stop are logged. @default no logging */
  logger?: SessionLogger;
  tls?: SmtpTlsOverrides;
  timeouts?: SmtpTimeoutOverrides;
  /** Client name sent with EHLO. @default nodemailer's (the host name) */
  name?: string;
}

/** Counters for tests, the benchmark and metrics. */
export interface SmtpSessionStats {
  /** Connections opened (each one TLS handshake). */
  connections: number;
  /** Successful AUTH exchanges. */
  logins: number;
  /** Messages the server accepted. */
  sent: number;
  /** RSETs after a refused message (the session was kept). */
  resets: number;
}

type ConfigOutcome = Extract<SendOutcome, { kind: 'config' }>;

/** Opens (lazily) the batch's SMTP session. `auth.tokenProvider` is required for `oauth2`. */
export function openSmtpSession(
  config: SenderConfig,
  auth: { tokenProvider?: TokenProvider },
  options: SmtpSessionOptions = {},
): SmtpSession {
  return new SmtpSession(config, auth.tokenProvider, options);
}

export class SmtpSession implements MailSession {
  readonly stats: SmtpSessionStats = { connections: 0, logins: 0, sent: 0, resets: 0 };
  readonly #config: SenderConfig;
  readonly #tokens: TokenProvider | undefined;
  readonly #options: SmtpSessionOptions;
  #conn: SMTPConnection | undefined;
  #stopped: ConfigOutcome | undefined;
  /** Set when the session could not be (re)established: the rest of the batch is retried later. */
  #unavailable: SendOutcome | undefined;
  #closed = false;
  /** Sends run one at a time: an SMTP connection carries one transaction at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    config: SenderConfig,
    tokens: TokenProvider | undefined,
    options: SmtpSessionOptions,
  ) {
    this.#config = config;
    this.#tokens = tokens;
    this.#options = options;
  }

  get connections(): number {
    return this.stats.connections;
  }

  get logins(): number {
    return this.stats.logins;
  }

  /** The configuration error that stopped this session, if any. */
  get stoppedBy(): ConfigOutcome | undefined {
    return this.#stopped;
  }

  send(mail: Mail.Options): Promise<SendOutcome> {
    const run = this.#queue.then(() => this.#send(mail));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) await quit(conn);
  }

  async #send(mail: Mail.Options): Promise<SendOutcome> {
    // A broken configuration fails every message the same way: do not touch the network again.
    if (this.#stopped) return this.#stopped;
    // A server that could not be reached a moment ago would cost every remaining message of the
    // batch a full connection timeout; they are retried later with backoff instead.
    if (this.#unavailable) return this.#unavailable;
    if (this.#closed)
      return { kind: 'retry', reason: 'The SMTP session was closed before this message was sent.' };
    let mime: ComposedMime;
    try {
      mime = await composeMime(mail);
    } catch (err) {
      return {
        kind: 'invalid',
        reason: `The message could not be composed: ${(err as Error).message}`,
      };
    }
    let conn: SMTPConnection;
    try {
      conn = await this.#ready();
    } catch (err) {
      const outcome = this.#failed(err);
      if (outcome.kind === 'retry') this.#unavailable = outcome;
      return outcome;
    }
    try {
      const info = await sendMessage(conn, mime);
      this.stats.sent++;
      if (info.rejected.length > 0) {
        this.#options.logger?.warn(
          'Some recipients were refused; the message was sent to the others',
          {
            rejected: info.rejected,
            replies: info.rejectedErrors?.map((e) => e.response),
          },
        );
      }
      return {
        kind: 'sent',
        response: info.response,
        accepted: info.accepted,
        rejected: info.rejected,
      };
    } catch (err) {
      await this.#recover(conn, err);
      return this.#failed(err);
    }
  }

  /** The open connection, or a new one: connect, TLS, AUTH. */
  async #ready(): Promise<SMTPConnection> {
    if (this.#conn) return this.#conn;
    const { smtp } = this.#config;
    const conn = new SMTPConnection(smtpConnectionOptions(smtp, this.#options));
    this.stats.connections++;
    // Without a listener an 'error' event would crash the process; failures reach the caller anyway.
    conn.on('error', () => this.#forget(conn));
    conn.on('end', () => this.#forget(conn));
    try {
      await connect(conn);
      if (!conn.secure && !smtp.allowPlaintext) {
        // Defence in depth: requireTLS already refuses, but no credential may ever follow a plain connection.
        throw Object.assign(
          new Error('Error upgrading connection with STARTTLS: the session is not encrypted'),
          { code: 'ETLS', command: 'STARTTLS' },
        );
      }
      await this.#login(conn);
    } catch (err) {
      conn.close();
      throw err;
    }
    this.#options.logger?.info('SMTP session ready', {
      host: smtp.host,
      port: smtp.port,
      tls: conn.secure,
      auth: smtp.auth,
    });
    this.#conn = conn;
    return conn;
  }

  async #login(conn: SMTPConnection): Promise<void> {
    const { smtp, sender, password } = this.#config;
    if (smtp.auth === 'none') return;
    if (smtp.auth === 'password') {
      await loginPassword(conn, sender, password ?? '');
    } else {
      if (!this.#tokens)
        throw Object.assign(new Error('Missing credentials for "XOAUTH2": no token provider'), {
          code: 'EAUTH',
          command: 'API',
        });
      try {
        await loginOAuth2(conn, sender, this.#tokens, false);
      } catch (err) {
        // A cached token Exchange refuses (e.g. issued before the app got SMTP.SendAsApp) is fixed
        // by a fresh one: try once more with a renewed token before calling it a configuration error.
        if (!isRefusedToken(err)) throw err;
        await loginOAuth2(conn, sender, this.#tokens, true);
      }
    }
    this.stats.logins++;
  }

  /** After a failed message: RSET and keep the session when the server answered; else drop the connection. */
  async #recover(conn: SMTPConnection, err: unknown): Promise<void> {
    const { responseCode, code } = err as { responseCode?: number; code?: string };
    // A reply (other than 421, which closes the session) or a refusal nodemailer made before
    // sending anything leaves a working connection: RSET clears the transaction.
    const answered = responseCode !== undefined && responseCode !== 421;
    const refusedLocally =
      responseCode === undefined && (code === 'EMESSAGE' || code === 'EENVELOPE');
    if (this.#conn === conn && (answered || refusedLocally)) {
      try {
        await reset(conn);
        this.stats.resets++;
        return;
      } catch {
        // fall through: the connection is not usable
      }
    }
    this.#forget(conn);
    conn.close();
  }

  #failed(err: unknown): SendOutcome {
    const outcome = classificationToOutcome(classifySmtpFailure(err));
    if (outcome.kind === 'config') {
      this.#stopped = outcome;
      this.#options.logger?.error(
        'SMTP configuration error: no more messages are sent in this batch',
        {
          reason: outcome.reason,
          fix: outcome.fix,
          reply: outcome.reply,
        },
      );
      const conn = this.#conn;
      this.#conn = undefined;
      if (conn) void quit(conn);
    }
    return outcome;
  }

  #forget(conn: SMTPConnection): void {
    if (this.#conn === conn) this.#conn = undefined;
  }
}

/** `535 5.7.3`: Exchange refused the token itself; `5.7.139` (SMTP AUTH disabled, policies) no token fixes. */
function isRefusedToken(err: unknown): boolean {
  const { responseCode, response } = err as { responseCode?: number; response?: unknown };
  return responseCode === 535 && !(typeof response === 'string' && /\b5\.7\.139\b/.test(response));
}
