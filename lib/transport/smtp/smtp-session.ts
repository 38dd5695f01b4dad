/**
 * One batch's view of an authenticated SMTP session: the connection is borrowed lazily on the first
 * message from {@link KeptSmtpConnections} (opened, or kept from an earlier batch of this warm
 * instance), every message of the batch goes over it, and `close()` gives it back. A connection is
 * replaced mid-batch only after it failed.
 *
 * What a batch learns stays with the batch: a configuration stop or "server unavailable" makes
 * the rest of THIS batch retry without touching the network; the next batch tries again.
 *
 * Built on nodemailer's SMTPConnection rather than its pool on purpose: the pool discards a
 * connection after ANY failed send (even one 550 for an unknown recipient), which would cost a new
 * TLS + AUTH handshake mid-batch; here a refused message is followed by RSET and the session goes on.
 */

import { findTokenAcquisitionError } from '../../auth/token-acquisition-error.ts';
import type { SenderConfig } from '../../config/sender-config.ts';
import type { ComposedMime, MailSession, SendOutcome, TokenProvider } from '../../types.ts';
import { classificationToOutcome, classifySmtpFailure } from './classify-smtp-failure.ts';
import {
  type KeptConnection,
  type KeptConnectionsOptions,
  KeptSmtpConnections,
  NoConnectionSlotError,
  type SessionLogger,
} from './kept-smtp-connections.ts';
import type { OpenConnectionOptions } from './open-smtp-connection.ts';
import { reset, sendMessage } from './smtp-connection-steps.ts';

export type { SessionLogger } from './kept-smtp-connections.ts';

export interface SmtpSessionOptions extends OpenConnectionOptions {
  /** Where connection events, refused recipients and the configuration stop are logged. @default no logging */
  logger?: SessionLogger;
}

/** Counters of one batch, for tests, the benchmark and metrics. */
export interface SmtpSessionStats {
  /** Connections this batch opened (each one TLS handshake); 0 when it reused a kept one. */
  connections: number;
  /** Successful AUTH exchanges of this batch. */
  logins: number;
  /** Messages the server accepted. */
  sent: number;
  /** RSETs after a refused message (the session was kept). */
  resets: number;
}

type ConfigOutcome = Extract<SendOutcome, { kind: 'config' }>;

/**
 * Opens (lazily) a standalone SMTP session: its own connection, QUIT at `close()`.
 * `auth.tokenProvider` is required for `oauth2`. A session that borrows a connection kept between
 * batches is `new SmtpSession(keeper, logger)`.
 */
export function openSmtpSession(
  config: SenderConfig,
  auth: { tokenProvider?: TokenProvider },
  options: SmtpSessionOptions = {},
): SmtpSession {
  const keeper = new KeptSmtpConnections(config, auth.tokenProvider, {
    ...(options as KeptConnectionsOptions),
    keepAliveMs: 0,
  });
  return new SmtpSession(keeper, options.logger);
}

export class SmtpSession implements MailSession {
  readonly stats: SmtpSessionStats = { connections: 0, logins: 0, sent: 0, resets: 0 };
  readonly #keeper: KeptSmtpConnections;
  readonly #logger: SessionLogger | undefined;
  #kept: KeptConnection | undefined;
  #stopped: ConfigOutcome | undefined;
  /** Set when the session could not be (re)established: the rest of the batch is retried later. */
  #unavailable: SendOutcome | undefined;
  #closed = false;
  /** Sends run one at a time: an SMTP connection carries one transaction at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(keeper: KeptSmtpConnections, logger?: SessionLogger) {
    this.#keeper = keeper;
    this.#logger = logger;
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

  send(mime: ComposedMime): Promise<SendOutcome> {
    const run = this.#queue.then(() => this.#send(mime));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the batch: the connection goes back to its keeper (kept for the next batch, or QUIT). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const kept = this.#kept;
    this.#kept = undefined;
    if (kept) await this.#keeper.giveBack(kept);
  }

  async #send(mime: ComposedMime): Promise<SendOutcome> {
    // A broken configuration fails every message the same way: do not touch the network again.
    if (this.#stopped) return this.#stopped;
    // A server that could not be reached a moment ago would cost every remaining message of the
    // batch a full connection timeout; they are retried later with backoff instead.
    if (this.#unavailable) return this.#unavailable;
    if (this.#closed)
      return { kind: 'retry', reason: 'The SMTP session was closed before this message was sent.' };
    let kept: KeptConnection;
    try {
      kept = await this.#ready();
    } catch (err) {
      // No free connection slot: nothing is wrong with the server or the message.
      const outcome: SendOutcome =
        err instanceof NoConnectionSlotError
          ? { kind: 'retry', reason: err.message }
          : this.#failed(err);
      if (outcome.kind === 'retry') {
        if (isUnreachable(err)) outcome.unreachable = true;
        this.#unavailable = outcome;
      }
      return outcome;
    }
    try {
      const info = await sendMessage(kept.conn, mime);
      this.stats.sent++;
      if (info.rejected.length > 0) {
        this.#logger?.warn('Some recipients were refused; the message was sent to the others', {
          rejected: info.rejected,
          replies: info.rejectedErrors?.map((e) => e.response),
        });
      }
      return {
        kind: 'sent',
        response: info.response,
        accepted: info.accepted,
        rejected: info.rejected,
      };
    } catch (err) {
      await this.#recover(kept, err);
      return this.#failed(err);
    }
  }

  /** The batch's connection, or one borrowed from the keeper (kept or new: connect, TLS, AUTH). */
  async #ready(): Promise<KeptConnection> {
    if (this.#kept?.alive) return this.#kept;
    this.#kept = undefined;
    this.#kept = await this.#keeper.borrow(this.stats);
    return this.#kept;
  }

  /** After a failed message: RSET and keep the session when the server answered; else drop the connection. */
  async #recover(kept: KeptConnection, err: unknown): Promise<void> {
    const { responseCode, code } = err as { responseCode?: number; code?: string };
    // A reply (other than 421, which closes the session) or a refusal nodemailer made before
    // sending anything leaves a working connection: RSET clears the transaction.
    const answered = responseCode !== undefined && responseCode !== 421;
    const refusedLocally =
      responseCode === undefined && (code === 'EMESSAGE' || code === 'EENVELOPE');
    if (kept.alive && (answered || refusedLocally)) {
      try {
        await reset(kept.conn);
        this.stats.resets++;
        return;
      } catch {
        // fall through: the connection is not usable
      }
    }
    this.#keeper.discard(kept, 'close');
    if (this.#kept === kept) this.#kept = undefined;
  }

  #failed(err: unknown): SendOutcome {
    const outcome = classificationToOutcome(classifySmtpFailure(err));
    if (outcome.kind === 'config') {
      this.#stopped = outcome;
      this.#logger?.error('SMTP configuration error: no more messages are sent in this batch', {
        reason: outcome.reason,
        fix: outcome.fix,
        reply: outcome.reply,
      });
      // Not kept for the next batch either: it may be the very connection the error came from.
      const kept = this.#kept;
      this.#kept = undefined;
      if (kept) this.#keeper.discard(kept, 'quit');
    }
    return outcome;
  }
}

/** Connection errors nodemailer reports when no reply came at all (its `_onError` transient codes). */
const NO_REPLY_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS']);

/**
 * The way out is down: the server never answered (refused, reset, timed out, no DNS), or the
 * token endpoint could not be reached. A reply, even a 4xx, means the server is there.
 */
function isUnreachable(err: unknown): boolean {
  const token = findTokenAcquisitionError(err);
  if (token) return token.transient;
  const { responseCode, code } = (err ?? {}) as { responseCode?: unknown; code?: unknown };
  return responseCode === undefined && typeof code === 'string' && NO_REPLY_CODES.has(code);
}
