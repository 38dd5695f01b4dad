/**
 * One batch's view of an authenticated SMTP session: the connection is borrowed lazily on the first
 * message from {@link KeptSmtpConnections} (opened, or kept from an earlier batch of this warm
 * instance), every message of the batch goes over it, and `close()` gives it back (after every
 * message in flight has its answer). A connection is replaced mid-batch only after it failed.
 *
 * `send` may be called again before the previous message is answered: the messages are pipelined
 * on the connection as the server allows (`smtp-pipeline.ts`), each with its own outcome. A message
 * that was never written when its connection failed goes out once more on a new one.
 *
 * What a batch learns stays with the batch: a configuration stop or "server unavailable" makes
 * the rest of THIS batch retry without touching the network; the next batch tries again.
 *
 * Built on connections of our own rather than nodemailer's pool on purpose: the pool discards a
 * connection after ANY failed send (even one 550 for an unknown recipient), which would cost a new
 * TLS + AUTH handshake mid-batch; here a refused message is followed by RSET and the session goes on.
 */

import { findTokenAcquisitionError } from '../../auth/token-acquisition-error.ts';
import type { SenderConfig } from '../../config/sender-config.ts';
import type {
  ComposedMime,
  MailSession,
  RecipientRefusal,
  SendOutcome,
  SendProgress,
  TokenProvider,
} from '../../types.ts';
import {
  classificationToOutcome,
  classifyRecipientRefusal,
  classifySmtpFailure,
} from './classify-smtp-failure.ts';
import {
  type KeptConnection,
  type KeptConnectionsOptions,
  KeptSmtpConnections,
  NoConnectionSlotError,
  type SessionLogger,
} from './kept-smtp-connections.ts';
import type { OpenConnectionOptions } from './open-smtp-connection.ts';
import type { SmtpFailure } from './smtp-failure.ts';

export type { SessionLogger } from './kept-smtp-connections.ts';

export interface SmtpSessionOptions extends OpenConnectionOptions {
  /** Where connection events and the configuration stop are logged. @default no logging */
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
  /** RSETs sent ahead of a message: after a refused one (the session was kept), or behind one still unanswered. */
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
  #borrowing: Promise<KeptConnection> | undefined;
  /** The kept connection's RSET count already added to `stats.resets`. */
  #resetsCounted = 0;
  #stopped: ConfigOutcome | undefined;
  /** Set when the session could not be (re)established: the rest of the batch is retried later. */
  #unavailable: SendOutcome | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<SendOutcome>>();

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

  send(mime: ComposedMime, progress?: SendProgress): Promise<SendOutcome> {
    const run = this.#send(mime, progress, true);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
    return run;
  }

  /** Ends the batch: once every message has its answer, the connection goes back to its keeper (kept for the next batch, or QUIT). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    const kept = this.#kept;
    this.#kept = undefined;
    if (kept) await this.#keeper.giveBack(kept);
  }

  async #send(
    mime: ComposedMime,
    progress: SendProgress | undefined,
    mayResend: boolean,
  ): Promise<SendOutcome> {
    // A broken configuration fails every message the same way: do not touch the network again.
    if (this.#stopped) return this.#stopped;
    // A server that could not be reached a moment ago would cost every remaining message of the
    // batch a full connection timeout; they are retried later with backoff instead.
    if (this.#unavailable) return this.#unavailable;
    if (this.#closed) return notSentOutcome();
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
      const info = await kept.conn.send(mime, progress && (() => progress.onWritten()));
      this.stats.sent++;
      return {
        kind: 'sent',
        response: info.response,
        accepted: info.accepted,
        refused: recipientRefusals(info.rejectedErrors),
      };
    } catch (err) {
      if ((err as SmtpFailure).code === 'ENOTSENT') {
        // Never written: safe to send on a new connection, unless the batch is over for it.
        if (this.#stopped) return this.#stopped;
        if (mayResend && !this.#closed) return this.#send(mime, progress, false);
        return notSentOutcome();
      }
      return this.#failed(err);
    } finally {
      this.#countResets(kept);
      if (!kept.alive) this.#drop(kept);
    }
  }

  /** The batch's connection, or one borrowed from the keeper (kept or new: connect, TLS, AUTH). */
  #ready(): Promise<KeptConnection> {
    if (this.#kept?.alive) return Promise.resolve(this.#kept);
    if (this.#kept) this.#drop(this.#kept);
    this.#borrowing ??= this.#keeper.borrow(this.stats).then(
      (kept) => {
        this.#borrowing = undefined;
        this.#kept = kept;
        this.#resetsCounted = kept.conn.resets;
        return kept;
      },
      (err: unknown) => {
        this.#borrowing = undefined;
        throw err;
      },
    );
    return this.#borrowing;
  }

  #countResets(kept: KeptConnection): void {
    if (kept !== this.#kept) return;
    this.stats.resets += kept.conn.resets - this.#resetsCounted;
    this.#resetsCounted = kept.conn.resets;
  }

  /** Forgets a connection that ended (its keeper saw it end too). */
  #drop(kept: KeptConnection): void {
    this.#keeper.discard(kept, 'close');
    if (this.#kept === kept) this.#kept = undefined;
  }

  #failed(err: unknown): SendOutcome {
    const outcome = classificationToOutcome(classifySmtpFailure(err));
    if (outcome.kind === 'config') {
      if (!this.#stopped) {
        this.#logger?.error('SMTP configuration error: no more messages are sent in this batch', {
          reason: outcome.reason,
          fix: outcome.fix,
          reply: outcome.reply,
        });
        this.#stopped = outcome;
      }
      // Not kept for the next batch either: it may be the very connection the error came from.
      // Messages already written still get their answers before the QUIT.
      const kept = this.#kept;
      this.#kept = undefined;
      if (kept) this.#keeper.discard(kept, 'quit');
      return outcome;
    }
    // Every recipient refused at RCPT TO: each keeps its own verdict (some may be only deferred).
    const refused = recipientRefusals((err as { rejectedErrors?: unknown }).rejectedErrors);
    if ((outcome.kind === 'retry' || outcome.kind === 'rejected') && refused.length > 0) {
      return { ...outcome, refused };
    }
    return outcome;
  }
}

function notSentOutcome(): SendOutcome {
  return { kind: 'retry', reason: 'The SMTP session was closed before this message was sent.' };
}

/** The per-recipient errors of a sent message (each with `.recipient` and its RCPT TO reply), classified. */
function recipientRefusals(errors: unknown): RecipientRefusal[] {
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is { recipient: string } => typeof e?.recipient === 'string')
    .map((e) => classifyRecipientRefusal(e.recipient, e));
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
