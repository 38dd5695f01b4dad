/**
 * The SMTP transaction layer: the authenticated connection nodemailer opened (TCP, greeting, EHLO,
 * STARTTLS, AUTH), taken over once it is ready, carrying messages with as few round trips as the
 * server allows:
 *
 * - CHUNKING and PIPELINING (Exchange Online): `MAIL`, `RCPT`..., `BDAT <size> LAST` and the bytes
 *   of each message are written at once, and the next message's right behind, without waiting for
 *   the replies (RFC 3030 lets BDAT be pipelined): several messages are in flight at a time.
 * - PIPELINING only: `MAIL`, `RCPT`..., `DATA` in one group (DATA must end it, RFC 2920 §3.1);
 *   after the 354, the body, its end marker and the next message's envelope and DATA travel
 *   together: about one round trip per message.
 * - Neither: one command at a time.
 *
 * Why not nodemailer's `SMTPConnection.send` for this: it sends one message at a time, waits for
 * the end-of-data reply before the next MAIL (two round trips a message at best), and has no BDAT.
 * Its connection, STARTTLS and AUTH code is kept; from the first transaction on, this class owns the
 * socket (see `open-smtp-connection.ts`).
 *
 * Replies are matched to commands in order. A refused message (sender, recipients, content) fails
 * alone: the next one starts with `RSET` whenever the server might still hold a transaction open
 * (a refused DATA or BDAT, or a BDAT LAST whose reply is still out), so it never inherits a stale
 * sender. A reply of 421, a reset or a timeout ends the connection: every message in flight fails
 * with that cause, messages not yet written fail as `ENOTSENT`.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { ComposedMime } from '../../types.ts';
import type { SmtpExtensions } from './smtp-extensions.ts';
import { type SmtpFailure, smtpFailure } from './smtp-failure.ts';
import { type SmtpReplyLine, SmtpReplyReader } from './smtp-reply-reader.ts';
import { type SentInfo, SmtpTransaction, type TransactionStep } from './smtp-transaction.ts';

export type { SentInfo } from './smtp-transaction.ts';

export interface SmtpPipelineOptions {
  /** Longest silence while a reply is due before the connection is given up (ms). */
  socketTimeoutMs: number;
  /** Messages written and not yet answered, at most. @default 10 (an SQS batch) */
  maxInFlight?: number;
}

/** A transaction being written or waiting for replies. */
interface Flight {
  tx: SmtpTransaction;
  steps: TransactionStep[];
  next: number;
  /** Written steps still waiting for their reply. */
  pending: number;
}

interface Waiter {
  onReply(reply: SmtpReplyLine): void;
  /** The connection ended before the reply (a transaction's steps fail with their flight instead). */
  onEnd?(failure: SmtpFailure): void;
  flight?: Flight;
  /** Nothing more was written after this command (lock-step, or DATA). */
  blocks: boolean;
}

export class SmtpPipeline extends EventEmitter<{ end: [] }> {
  readonly extensions: SmtpExtensions;
  /** The connection is TLS (STARTTLS or implicit). */
  readonly secure: boolean;
  readonly socket: Socket;
  readonly #maxInFlight: number;
  readonly #lockStep: boolean;
  readonly #reader = new SmtpReplyReader();
  readonly #waiting: Waiter[] = [];
  readonly #queue: SmtpTransaction[] = [];
  readonly #flights: Flight[] = [];
  #writing: Flight | undefined;
  #blocked = false;
  /** The transaction started last: whether the next one needs RSET depends on it. */
  #previous: SmtpTransaction | undefined;
  #alive = true;
  #quitting = false;
  #resets = 0;

  constructor(
    socket: Socket,
    extensions: SmtpExtensions,
    options: SmtpPipelineOptions & { secure: boolean },
  ) {
    super();
    this.socket = socket;
    this.extensions = extensions;
    this.secure = options.secure;
    this.#maxInFlight = options.maxInFlight ?? 10;
    this.#lockStep = !extensions.pipelining;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const failure = smtpFailure(err.message, 'ESOCKET', 'CONN');
      if (err.code) failure.originalCode = err.code;
      this.#end(failure);
    });
    socket.on('close', () =>
      this.#end(smtpFailure('Connection closed unexpectedly', 'ECONNECTION', 'CONN')),
    );
    socket.on('timeout', () => {
      if (this.#waiting.length === 0) return;
      this.#end(smtpFailure('Timeout', 'ETIMEDOUT', 'CONN'));
    });
    socket.setTimeout(options.socketTimeoutMs);
  }

  /** False once the connection ended (server closed it, an error, QUIT, `close()`). */
  get alive(): boolean {
    return this.#alive;
  }

  /** RSETs sent ahead of a message (after a refused one, or behind one still unanswered). */
  get resets(): number {
    return this.#resets;
  }

  /**
   * Sends one message; resolves with what the server accepted, rejects with an `SmtpFailure`.
   * `onWritten` is called when its first command is written (at once, or when the server's
   * replies allow).
   */
  send(mime: ComposedMime, onWritten?: () => void): Promise<SentInfo> {
    const tx = new SmtpTransaction(mime, onWritten);
    const refused = this.#alive ? tx.refusedLocally(this.extensions) : notSent();
    if (refused) {
      tx.fail(refused);
    } else {
      this.#queue.push(tx);
      this.#pump();
    }
    return tx.result;
  }

  /** RSET on an idle connection (a health check before reuse); rejects when it is not answered 250. */
  reset(): Promise<void> {
    if (!this.#alive) return Promise.reject(notSent());
    if (this.#flights.length > 0 || this.#queue.length > 0) {
      return Promise.reject(smtpFailure('RSET while messages are in flight', 'EPROTOCOL', 'API'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({
        blocks: true,
        onEnd: reject,
        onReply: (reply) => {
          if (reply.code >= 300) {
            reject(smtpFailure('Could not reset session state', 'EPROTOCOL', 'RSET', reply.text));
            return;
          }
          this.#previous = undefined;
          resolve();
        },
      });
      this.#blocked = true;
      this.#write(['RSET\r\n']);
    });
  }

  /**
   * QUIT after the messages already written (those not yet written fail as `ENOTSENT`), then waits
   * briefly for the server to close. Never rejects.
   */
  quit(waitMs = 1_000): Promise<void> {
    if (!this.#alive) return Promise.resolve();
    this.#quitting = true;
    for (const tx of this.#queue.splice(0)) tx.fail(notSent());
    const ended = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.close();
        resolve();
      }, waitMs);
      timer.unref();
      this.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#pump();
    return ended;
  }

  /** Closes the connection now; what is in flight fails as a closed connection. */
  close(): void {
    this.#end(smtpFailure('Connection closed', 'ECONNECTION', 'CONN'));
  }

  /** Writes whatever may be written now: whole transactions, up to the next reply that must come first. */
  #pump(): void {
    if (!this.#alive) return;
    const out: (string | Buffer)[] = [];
    while (!this.#blocked) {
      const flight = this.#writing ?? this.#startNext();
      if (!flight) break;
      const step = flight.steps[flight.next];
      if (!step) {
        this.#writing = undefined;
        if (flight.pending === 0) this.#settle(flight);
        continue;
      }
      flight.next++;
      if (!step.when()) continue;
      for (const piece of step.bytes()) out.push(piece);
      flight.pending++;
      const blocks = this.#lockStep || step.endsGroup;
      this.#waiting.push({ onReply: (reply) => step.onReply(reply), flight, blocks });
      if (blocks) this.#blocked = true;
    }
    if (!this.#blocked && !this.#writing && this.#quitting && this.#queue.length === 0) {
      this.#quitting = false;
      this.#waiting.push({ blocks: true, onReply: () => this.socket.end() });
      this.#blocked = true;
      out.push('QUIT\r\n');
    }
    this.#write(out);
  }

  #startNext(): Flight | undefined {
    const tx = this.#queue[0];
    if (!tx || this.#flights.length >= this.#maxInFlight) return undefined;
    this.#queue.shift();
    const reset = this.#needsReset();
    if (reset) this.#resets++;
    const flight: Flight = {
      tx,
      steps: tx.steps(this.extensions, reset, this.#lockStep),
      next: 0,
      pending: 0,
    };
    this.#previous = tx;
    tx.onWritten?.();
    this.#flights.push(flight);
    this.#writing = flight;
    return flight;
  }

  /** Whether the server may still hold the previous transaction open, so the next must RSET first. */
  #needsReset(): boolean {
    const previous = this.#previous;
    if (!previous) return false;
    if (previous.settled) return previous.mayLeaveTransactionOpen;
    // In flight: a written DATA terminator ends it whatever the reply; a BDAT LAST may be refused.
    return !(previous.endWritten && !this.extensions.chunking);
  }

  #write(pieces: (string | Buffer)[]): void {
    if (pieces.length === 0 || !this.#alive) return;
    const socket = this.socket;
    socket.cork();
    let text = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') {
        text += piece;
        continue;
      }
      if (text) socket.write(text);
      text = '';
      socket.write(piece);
    }
    if (text) socket.write(text);
    socket.uncork();
  }

  #onData(chunk: Buffer): void {
    let replies: SmtpReplyLine[];
    try {
      replies = this.#reader.push(chunk);
    } catch (err) {
      this.#end(smtpFailure((err as Error).message, 'EPROTOCOL', 'CONN'));
      return;
    }
    for (const reply of replies) {
      if (!this.#alive) return;
      this.#onReply(reply);
    }
    this.#pump();
  }

  #onReply(reply: SmtpReplyLine): void {
    const waiter = this.#waiting.shift();
    if (!waiter) {
      // RFC 5321 §4.2: a server about to close may say 421 at any time; anything else is out of step.
      const why = reply.code === 421 ? 'Server closed the connection' : 'Unexpected response';
      this.#end(
        smtpFailure(why, reply.code === 421 ? 'ECONNECTION' : 'EPROTOCOL', 'CONN', reply.text),
      );
      return;
    }
    if (waiter.blocks) this.#blocked = false;
    waiter.onReply(reply);
    const flight = waiter.flight;
    if (flight) {
      flight.pending--;
      if (flight.pending === 0 && flight !== this.#writing && flight.next >= flight.steps.length) {
        this.#settle(flight);
      }
    }
    if (reply.code === 421) {
      // The server closes the connection: what is still in flight fails with its reply.
      this.#end(smtpFailure('Server closed the connection', 'ECONNECTION', 'CONN', reply.text));
    }
  }

  #settle(flight: Flight): void {
    const at = this.#flights.indexOf(flight);
    if (at >= 0) this.#flights.splice(at, 1);
    flight.tx.settle();
  }

  #end(failure: SmtpFailure): void {
    if (!this.#alive) return;
    this.#alive = false;
    for (const waiter of this.#waiting.splice(0)) waiter.onEnd?.(failure);
    this.#writing = undefined;
    for (const flight of this.#flights.splice(0)) flight.tx.fail(failure);
    for (const tx of this.#queue.splice(0)) tx.fail(notSent());
    if (!this.socket.destroyed) this.socket.destroy();
    this.emit('end');
  }
}

/** A message that was never written: safe to send again elsewhere. */
function notSent(): SmtpFailure {
  return smtpFailure('The connection closed before this message was sent', 'ENOTSENT', 'CONN');
}
