/**
 * Shared shapes that cross module boundaries: the normalised mail message, the outcome of one send,
 * and the seams (token provider, SMTP session, ledger, rate limiter) the sender is assembled from.
 * Outcomes are data, not exceptions: a `switch` over `kind` must be exhaustive.
 */

/** A normalised address: display name (optional) and the bare address. */
export interface MailAddress {
  name?: string;
  address: string;
}

/** An attachment, inline (base64) or fetched from S3 at send time. */
export type MailAttachment =
  | { filename: string; contentType?: string; content: string }
  | { filename: string; contentType?: string; s3: { bucket: string; key: string } };

/** A message after `parseMailMessage`: defaults filled, addresses as objects. */
export interface MailMessage {
  version: 1;
  /** Idempotency key; the consumer falls back to the SQS message id when absent. */
  id?: string;
  from?: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  subject: string;
  text?: string;
  html?: string;
  attachments: MailAttachment[];
  /** Only `X-` headers. */
  headers: Record<string, string>;
  priority?: 'high' | 'normal' | 'low';
  /** For logs and metrics only; never sent. */
  tags: Record<string, string>;
}

/** The class of a failure, as written to the DLQ's `FailureClass` attribute and to metrics. */
export type FailureClass = 'invalid' | 'rejected' | 'retry' | 'config';

/** A server reply, as far as it is known. */
export interface SmtpReply {
  /** Basic code, e.g. 550. */
  code?: number;
  /** Enhanced status code, e.g. `5.1.10`. */
  enhanced?: string;
  /** The whole reply text. */
  text: string;
  /** The SMTP step that got it (`MAIL FROM`, `RCPT TO`, `DATA`, `AUTH XOAUTH2`, `CONN`, ...). */
  command?: string;
}

/**
 * One envelope recipient the server did not take while the message itself went on (refused at
 * `RCPT TO`, or, for a server that answers per recipient, at the end of the message), classified by
 * its own reply.
 */
export interface RecipientRefusal {
  /** The address exactly as it was in `ComposedMime.envelope.to`. */
  recipient: string;
  /**
   * `retry`: a temporary reply (4xx, e.g. `450 4.2.1`, `452 4.5.3`): the message is sent to this
   * recipient again later, to it alone. `rejected`: a permanent reply (5xx): a dead letter names it.
   */
  kind: 'retry' | 'rejected';
  /** Human text with the server's reply. */
  reason: string;
  reply?: SmtpReply;
  /** For `retry`: a floor for the backoff, e.g. 60 s after a throttling reply. */
  minDelaySeconds?: number;
}

/**
 * What became of one message, per envelope recipient: a recipient named in `refused` has the verdict
 * given there; every other recipient of `ComposedMime.envelope.to` has the verdict of `kind`
 * (`sent`: it got the message). A transport that cannot tell recipients apart leaves `refused` empty.
 */
export type SendOutcome =
  | {
      kind: 'sent';
      /** Server reply to the end of the message (250 after DATA, or the last BDAT). */
      response: string;
      /** The recipients that got the message. */
      accepted: string[];
      /** Recipients refused while the others got the message; empty when all got it. */
      refused: RecipientRefusal[];
    }
  | { kind: 'invalid'; reason: string }
  | {
      kind: 'rejected';
      reason: string;
      reply?: SmtpReply;
      /** Recipients refused with their own reply before the message as a whole was refused. */
      refused?: RecipientRefusal[];
    }
  | {
      kind: 'retry';
      reason: string;
      reply?: SmtpReply;
      /** A floor for the backoff, e.g. 60 s after a throttling reply. */
      minDelaySeconds?: number;
      /**
       * No session could be set up because the server or the token endpoint could not be reached
       * (no reply at all): a run of these is an outage, which the circuit breaker pauses for.
       */
      unreachable?: boolean;
      /**
       * Recipients refused with their own reply before the message as a whole failed; e.g. all
       * of them, some for now (4xx) and some for good (5xx), so no DATA was sent.
       */
      refused?: RecipientRefusal[];
    }
  | { kind: 'config'; reason: string; fix: string; reply?: SmtpReply };

/** Supplies OAuth 2.0 access tokens for XOAUTH2 (MSAL owns caching and renewal). */
export interface TokenProvider {
  /** `renew` asks for a fresh token, skipping the cache (after the server refused one). */
  getAccessToken(renew?: boolean): Promise<string>;
}

/**
 * A message ready for any transport: the envelope (Bcc recipients included) and the exact MIME
 * bytes (no Bcc header). Composed once, so the same Message-ID, headers and attachments leave
 * whichever door (SMTP, Graph) carries it.
 */
export interface ComposedMime {
  /**
   * `to` may be fewer than the To/Cc/Bcc of the message: a message sent again to the recipients an
   * earlier attempt could not reach keeps its headers and narrows only the envelope. `narrowed` says
   * so; a transport that can only send to the header recipients must not send a narrowed message.
   */
  envelope: { from: string | false; to: string[]; narrowed?: boolean };
  raw: Buffer;
  messageId: string;
  /**
   * The Bcc recipients (also in `envelope.to`): a transport that reads recipients from the headers
   * (Graph) needs them written as a Bcc header, which the raw bytes leave out.
   */
  bcc?: string[];
  /**
   * The same message composed without its attachments, and the attachments: for a transport that
   * uploads them separately (Graph's draft with upload sessions, for messages over 4 MB).
   */
  detachAttachments?: () => Promise<{ raw: Buffer; attachments: ComposedAttachment[] }>;
}

/** An attachment taken out of a {@link ComposedMime}. */
export interface ComposedAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** What a pipelining session tells the batch about a message before its answer. */
export interface SendProgress {
  /** The message is written to the connection: the batch may prepare the next one. */
  onWritten(): void;
}

/**
 * One batch's session with a transport (an authenticated SMTP session, or Graph), reused for
 * every message in the batch. Delivery depends on this seam only, never on a transport's module.
 */
export interface MailSession {
  /**
   * Sends one composed message; never throws for a server reply: the outcome says what happened.
   * A session that pipelines (SMTP) calls `progress.onWritten` once the message is on the wire:
   * the batch then prepares the next message, and `send` is called again, before this answer.
   * A session that never calls it gets one message at a time.
   */
  send(mail: ComposedMime, progress?: SendProgress): Promise<SendOutcome>;
  /** Ends the batch's use of the session: QUIT, or kept for the next batch of a warm sender. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Result of claiming a message id in the delivery ledger. `verdict`: an earlier attempt decided the
 * outcome (the server refused the message, or some of its recipients) but its dead letter or copy
 * did not reach its queue; the text is what that attempt gave {@link DeliveryLedger.settle}.
 * `inProgressUntil`: another attempt holds the claim until then (epoch ms), when it lapses unless
 * that attempt completes or releases it; `'in-progress'` when that time is not known.
 */
export type LedgerClaim =
  | 'claimed'
  | 'already-sent'
  | 'in-progress'
  | { inProgressUntil: number }
  | { verdict: string };

/**
 * Remembers which message ids were sent, so redelivered or re-enqueued messages are not sent twice,
 * and which were refused, so a message whose dead letter failed is not sent to the server again.
 */
export interface DeliveryLedger {
  /** Claims `id` before sending. */
  claim(id: string): Promise<LedgerClaim>;
  /** Marks `id` as sent (after the server's 250 to DATA, and the moves a verdict needed). */
  complete(id: string): Promise<void>;
  /** Drops the claim after a failed send, or a verdict once carried out, so a later attempt may send. */
  release(id: string): Promise<void>;
  /**
   * Remembers the verdict of a claimed `id` (opaque text) until `complete` or `release`: a later
   * claim gets it back instead of a send.
   */
  settle(id: string, verdict: string): Promise<void>;
}

/** What {@link ConnectionLease.acquire} answers. */
export type LeaseGrant =
  | { ok: true }
  /** Every slot stayed taken for the whole wait; `inUse` of `max` were held. */
  | { ok: false; inUse: number; max: number };

/**
 * Slots for the SMTP connections of one sending mailbox, shared by every process (Lambda sandbox)
 * that sends for it, so together they never hold more than the server allows. A lease has an
 * expiry: a holder that vanishes (a frozen or killed sandbox) frees its slot when it lapses.
 * `holder` names one connection.
 */
export interface ConnectionLease {
  /** Longest `acquire` waits for a free slot (ms); a caller racing a deadline keeps this in hand. */
  readonly maxWaitMs: number;
  /** How long a lease lasts while its connection is in use (ms): longer than any one batch. */
  readonly inUseMs: number;
  /** Takes a slot for `ttlMs`, waiting up to `maxWaitMs` for one to free up. */
  acquire(mailbox: string, holder: string, ttlMs: number): Promise<LeaseGrant>;
  /**
   * Extends `holder`'s lease to `ttlMs` from now. `ok: false` when it had lapsed (its slot may be
   * someone else's now); `wanted` when another holder is waiting for a slot.
   */
  renew(mailbox: string, holder: string, ttlMs: number): Promise<{ ok: boolean; wanted: boolean }>;
  /** Frees `holder`'s slot (after its connection closed). */
  release(mailbox: string, holder: string): Promise<void>;
}

/** Per-sending-mailbox budget shared by all concurrent consumers. */
export interface SendRateLimiter {
  /** Takes budget for one message with `recipients` recipients; when spent, says how long to wait. */
  acquire(
    mailbox: string,
    recipients: number,
  ): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }>;
  /** The server throttled this mailbox: hold back all consumers for `seconds`. */
  penalize(mailbox: string, seconds: number): Promise<void>;
  /**
   * Longest `acquire` may wait for a near slot before answering; a caller racing a deadline keeps
   * this much time in hand. @default 0
   */
  readonly maxWaitMs?: number;
}
