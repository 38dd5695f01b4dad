/**
 * One record, from SQS body to a {@link RecordOutcome}: validate, check `from`, claim it in the
 * delivery ledger, take rate budget, compose, send on the batch's session. Moving to the DLQ and
 * scheduling retries are the batch's job ({@link ./process-batch.ts}); this only decides.
 */
import type { SQSRecord } from 'aws-lambda';
import { errorText, issuesText } from '../errors.ts';
import { parseMailMessageJson } from '../message/parse-mail-message.ts';
import type {
  ComposedMime,
  DeliveryLedger,
  MailMessage,
  MailSession,
  SendOutcome,
  SendRateLimiter,
} from '../types.ts';
import { isFromAllowed } from './allowed-from.ts';
import { backoffSeconds, MAX_VISIBILITY_SECONDS, receiveCountOf } from './backoff.ts';
import type { RecordOutcome } from './batch-outcome.ts';
import { composeMail, type S3ObjectFetcher } from './compose-mail.ts';
import { composeMime } from './compose-mime.ts';
import {
  FAILURE_RECIPIENTS_ATTRIBUTE,
  failureRecipientsOf,
  ledgerKeyOf,
  mailIdAttributeOf,
  narrowEnvelope,
} from './failure-recipients.ts';
import { claimInLedger, recordInLedger } from './ledger-steps.ts';
import {
  floorOf,
  groupOf,
  type RecipientVerdicts,
  recipientVerdicts,
} from './recipient-verdicts.ts';

/** The slice of the sender configuration one record needs. */
export interface RecordSettings {
  /** The authenticating mailbox (`MAIL_SENDER`): default `from`, rate-limit key. */
  sender: string;
  /** `MAIL_ALLOWED_FROM` entries; empty means only the sender. */
  allowedFrom: readonly string[];
}

/** Turns an unexpected error (from opening a session, or a send that threw) into an outcome. */
export type FailureClassifier = (err: unknown) => SendOutcome;

export interface RecordDeps {
  settings: RecordSettings;
  /** The batch's session, opened on first use. */
  session: () => Promise<MailSession>;
  classifyFailure: FailureClassifier;
  fetchS3Object?: S3ObjectFetcher;
  ledger?: DeliveryLedger;
  rateLimiter?: SendRateLimiter;
  random?: () => number;
  /** Told how long the SMTP exchange took (ms), for the latency metric. */
  onSendLatency?: (ms: number) => void;
  /**
   * Told when the session has written the message (a session that pipelines): from then on the
   * record only waits for the server's answer, and the batch may prepare the next one meanwhile.
   */
  onWritten?: () => void;
  /** Problems worth a warning that do not change the outcome (ledger write failed after a 250). */
  onWarning?: (message: string) => void;
}

export interface RecordResult {
  mailId: string;
  outcome: RecordOutcome;
  /** The message's `tags`, for logs (never sent). */
  tags?: Record<string, string>;
  /**
   * The delivery-ledger key under which an `invalid`, `rejected` or `partial` verdict waits for its
   * dead letter (and copy): the batch completes or releases it once they are on their queues.
   */
  ledgerKey?: string;
}

/** The mail id without validating anything, for records that are skipped (held back, out of time). */
export function peekMailId(record: SQSRecord): string {
  try {
    const id = (JSON.parse(record.body) as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && /^[A-Za-z0-9._:@-]{1,128}$/.test(id)) return id;
  } catch {
    // Not JSON: it has no id of its own.
  }
  return mailIdAttributeOf(record) ?? record.messageId;
}

function parseBody(
  body: string,
): { ok: true; message: MailMessage } | { ok: false; reason: string } {
  const parsed = parseMailMessageJson(body);
  if (parsed.ok) return parsed;
  // Each issue's message already opens with its field (`to[0] is not a valid email address: ...`).
  return { ok: false, reason: `invalid message: ${issuesText(parsed.issues)}` };
}

/** What one record is about: the message, its id, and the recipients this queue message is for. */
interface Delivery {
  message: MailMessage;
  mailId: string;
  /** `FailureRecipients` of the record (lower case); undefined: every recipient. */
  narrowTo?: string[];
  ledgerKey: string;
  receiveCount: number;
}

export async function processRecord(record: SQSRecord, deps: RecordDeps): Promise<RecordResult> {
  const parsed = parseBody(record.body);
  if (!parsed.ok)
    return { mailId: peekMailId(record), outcome: { kind: 'invalid', reason: parsed.reason } };
  const message = parsed.message;
  const mailId = message.id ?? mailIdAttributeOf(record) ?? record.messageId;
  const tags = Object.keys(message.tags).length > 0 ? message.tags : undefined;
  const { sender, allowedFrom } = deps.settings;
  const from = message.from?.address ?? sender;
  if (!isFromAllowed(from, allowedFrom, sender)) {
    const reason = `from ${from} is not allowed (MAIL_ALLOWED_FROM: ${allowedFrom.join(', ') || sender})`;
    return { mailId, tags, outcome: { kind: 'invalid', reason } };
  }
  const narrowTo = failureRecipientsOf(record, message);
  const delivery: Delivery = {
    message,
    mailId,
    narrowTo,
    ledgerKey: ledgerKeyOf(mailId, narrowTo),
    receiveCount: receiveCountOf(record.attributes ?? {}),
  };
  const claim = await claimInLedger(delivery.ledgerKey, delivery.receiveCount, deps);
  if (claim !== 'claimed') return { mailId, tags, ...claim };
  const outcome = await sendClaimed(delivery, deps);
  const held = await recordInLedger(delivery.ledgerKey, outcome, deps);
  return { mailId, tags, outcome, ...(held && { ledgerKey: delivery.ledgerKey }) };
}

/** Everything after the ledger claim, up to the outcome (the ledger learns it afterwards). */
async function sendClaimed(delivery: Delivery, deps: RecordDeps): Promise<RecordOutcome> {
  const { message, mailId, narrowTo, receiveCount } = delivery;
  const { sender } = deps.settings;
  const backoff = (floor = 0) => backoffSeconds(receiveCount, floor, { random: deps.random });

  if (deps.rateLimiter) {
    const recipients =
      narrowTo?.length ?? message.to.length + message.cc.length + message.bcc.length;
    let budget: Awaited<ReturnType<SendRateLimiter['acquire']>>;
    try {
      budget = await deps.rateLimiter.acquire(sender, recipients);
    } catch (err) {
      const reason = `rate limiter unavailable: ${errorText(err)}`;
      return { kind: 'retry', cause: 'temporary', reason, delaySeconds: backoff() };
    }
    if (!budget.ok) {
      const reason = `send budget of ${sender} spent; next attempt in ≥ ${budget.retryAfterSeconds} s`;
      return {
        kind: 'retry',
        cause: 'rate-limited',
        reason,
        // Exactly the limiter's answer: it already spreads waiting messages one slot apart, and
        // its clock is real (not scaled, not growing with the receive count like a backoff).
        // A spent day budget can mean hours; SQS takes at most 12 h.
        delaySeconds: Math.min(MAX_VISIBILITY_SECONDS, budget.retryAfterSeconds),
      };
    }
  }
  const composed = await composeMail(message, {
    sender,
    mailId,
    fetchS3Object: deps.fetchS3Object,
  });
  if (composed.kind !== 'composed') {
    return composed.kind === 'invalid'
      ? { kind: 'invalid', reason: composed.reason }
      : { kind: 'retry', cause: 'temporary', reason: composed.reason, delaySeconds: backoff() };
  }
  let mime: ComposedMime;
  try {
    mime = await composeMime(composed.mail);
  } catch (err) {
    return { kind: 'invalid', reason: `the message could not be composed: ${errorText(err)}` };
  }
  if (narrowTo) {
    const to = narrowEnvelope(mime.envelope.to, narrowTo);
    if (to.length === 0) {
      const reason = `${FAILURE_RECIPIENTS_ATTRIBUTE} names none of the message's recipients; remove the attribute to send to all of them`;
      return { kind: 'invalid', reason };
    }
    mime = { ...mime, envelope: { ...mime.envelope, to, narrowed: true } };
  }
  const started = performance.now();
  let sent: SendOutcome;
  try {
    const onWritten = deps.onWritten;
    sent = await (await deps.session()).send(mime, onWritten && { onWritten });
  } catch (err) {
    sent = deps.classifyFailure(err);
  }
  deps.onSendLatency?.(performance.now() - started);

  if (sent.kind === 'invalid' || sent.kind === 'config') {
    return sent.kind === 'invalid'
      ? { kind: 'invalid', reason: sent.reason }
      : {
          kind: 'config',
          reason: sent.reason,
          fix: sent.fix,
          reply: sent.reply,
          delaySeconds: backoff(CONFIG_RETRY_FLOOR_SECONDS),
        };
  }
  const verdicts = recipientVerdicts(mime.envelope.to, sent);
  return outcomeOf(verdicts, sent, mime, deps, backoff);
}

/** One record's outcome from its recipients' verdicts: all alike, or split by recipient. */
async function outcomeOf(
  verdicts: RecipientVerdicts,
  sent: Extract<SendOutcome, { kind: 'sent' | 'retry' | 'rejected' }>,
  mime: ComposedMime,
  deps: RecordDeps,
  backoff: (floor?: number) => number,
): Promise<RecordOutcome> {
  const { accepted, deferred, refused } = verdicts;
  const response = sent.kind === 'sent' ? sent.response : undefined;
  if (deferred.length === 0 && refused.length === 0) {
    return { kind: 'sent', duplicate: false, response };
  }
  const floor = floorOf(deferred);
  // Only throttling replies carry a floor: slow every consumer of this mailbox down with it.
  if (floor > 0 && deps.rateLimiter) {
    try {
      await deps.rateLimiter.penalize(deps.settings.sender, floor);
    } catch (err) {
      deps.onWarning?.(`rate limiter penalize failed: ${errorText(err)}`);
    }
  }
  // The message's own reason speaks for the recipients not refused one by one, if there are any.
  const named = new Set((sent.refused ?? []).map((r) => r.recipient));
  const whole =
    sent.kind !== 'sent' && mime.envelope.to.some((r) => !named.has(r)) ? sent : undefined;
  if (accepted.length === 0 && refused.length === 0) {
    const { reason, reply } = whole ?? groupOf(deferred);
    // No session at all: the circuit breaker counts these towards an outage.
    const cause = sent.kind === 'retry' && sent.unreachable ? 'unreachable' : 'temporary';
    return { kind: 'retry', cause, reason, reply, delaySeconds: backoff(floor) };
  }
  if (accepted.length === 0 && deferred.length === 0) {
    const { reason, reply } = whole ?? groupOf(refused);
    const narrowed = mime.envelope.narrowed ? { recipients: mime.envelope.to } : {};
    return { kind: 'rejected', reason, reply, ...narrowed };
  }
  return {
    kind: 'partial',
    ...(response !== undefined && { response }),
    accepted,
    ...(deferred.length > 0 && {
      deferred: { ...groupOf(deferred), delaySeconds: backoff(floor) },
    }),
    ...(refused.length > 0 && { refused: groupOf(refused) }),
  };
}

/**
 * A configuration fault needs a person, not a quick retry: wait at least 5 minutes so the queue's
 * `maxReceiveCount` is not burnt in minutes while someone reacts to the ConfigErrors alarm.
 */
export const CONFIG_RETRY_FLOOR_SECONDS = 300;
