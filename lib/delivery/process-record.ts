/**
 * One record, from SQS body to a {@link RecordOutcome}: validate, check `from`, claim it in the
 * delivery ledger, take rate budget, compose, send on the batch's session. Moving to the DLQ and
 * scheduling retries are the batch's job ({@link ./process-batch.ts}); this only decides.
 */
import type { SQSRecord } from 'aws-lambda';
import { parseMailMessageJson } from '../message/parse-mail-message.ts';
import type {
  ComposedMime,
  DeliveryLedger,
  LedgerClaim,
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
  /** Problems worth a warning that do not change the outcome (ledger write failed after a 250). */
  onWarning?: (message: string) => void;
}

export interface RecordResult {
  mailId: string;
  outcome: RecordOutcome;
  /** The message's `tags`, for logs (never sent). */
  tags?: Record<string, string>;
}

/** The mail id without validating anything, for records that are skipped (held back, out of time). */
export function peekMailId(record: SQSRecord): string {
  try {
    const id = (JSON.parse(record.body) as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && /^[A-Za-z0-9._:@-]{1,128}$/.test(id)) return id;
  } catch {
    // Not JSON: it has no id of its own.
  }
  return record.messageId;
}

function parseBody(
  body: string,
): { ok: true; message: MailMessage } | { ok: false; reason: string } {
  const parsed = parseMailMessageJson(body);
  if (parsed.ok) return parsed;
  // Each issue's message already opens with its field (`to[0] is not a valid email address: ...`).
  const text = parsed.issues.map((i) => i.message).join('; ');
  return { ok: false, reason: `invalid message: ${text}` };
}

export async function processRecord(record: SQSRecord, deps: RecordDeps): Promise<RecordResult> {
  const parsed = parseBody(record.body);
  if (!parsed.ok)
    return { mailId: record.messageId, outcome: { kind: 'invalid', reason: parsed.reason } };
  const message = parsed.message;
  const mailId = message.id ?? record.messageId;
  const tags = Object.keys(message.tags).length > 0 ? message.tags : undefined;
  const { sender, allowedFrom } = deps.settings;
  const from = message.from?.address ?? sender;
  if (!isFromAllowed(from, allowedFrom, sender)) {
    const reason = `from ${from} is not allowed (MAIL_ALLOWED_FROM: ${allowedFrom.join(', ') || sender})`;
    return { mailId, tags, outcome: { kind: 'invalid', reason } };
  }
  const receiveCount = receiveCountOf(record.attributes ?? {});
  const claim = await claimInLedger(mailId, receiveCount, deps);
  if (claim !== 'claimed') return { mailId, tags, outcome: claim };
  const outcome = await sendClaimed(message, mailId, receiveCount, deps);
  return { mailId, tags, outcome };
}

/** `'claimed'` when this consumer may send (or there is no ledger); else the outcome to report. */
async function claimInLedger(
  mailId: string,
  receiveCount: number,
  deps: RecordDeps,
): Promise<'claimed' | RecordOutcome> {
  if (!deps.ledger) return 'claimed';
  const retryLater = (cause: 'temporary' | 'in-progress', reason: string): RecordOutcome => ({
    kind: 'retry',
    cause,
    reason,
    delaySeconds: backoffSeconds(receiveCount, 0, { random: deps.random }),
  });
  let claim: LedgerClaim;
  try {
    claim = await deps.ledger.claim(mailId);
  } catch (err) {
    return retryLater('temporary', `delivery ledger unavailable: ${errorText(err)}`);
  }
  switch (claim) {
    case 'claimed':
      return 'claimed';
    case 'already-sent':
      return { kind: 'sent', duplicate: true, refused: [] };
    case 'in-progress':
      return retryLater('in-progress', 'another consumer is sending this message right now');
    default: {
      const unreachable: never = claim;
      throw new Error(`unknown ledger claim ${String(unreachable)}`);
    }
  }
}

/** Everything after the ledger claim: a failure here must release the claim. */
async function sendClaimed(
  message: MailMessage,
  mailId: string,
  receiveCount: number,
  deps: RecordDeps,
): Promise<RecordOutcome> {
  const { sender } = deps.settings;
  const release = async () => {
    try {
      await deps.ledger?.release(mailId);
    } catch (err) {
      deps.onWarning?.(`delivery ledger release failed: ${errorText(err)}`);
    }
  };
  const backoff = (floor = 0) => backoffSeconds(receiveCount, floor, { random: deps.random });

  if (deps.rateLimiter) {
    const recipients = message.to.length + message.cc.length + message.bcc.length;
    let budget: Awaited<ReturnType<SendRateLimiter['acquire']>>;
    try {
      budget = await deps.rateLimiter.acquire(sender, recipients);
    } catch (err) {
      await release();
      const reason = `rate limiter unavailable: ${errorText(err)}`;
      return { kind: 'retry', cause: 'temporary', reason, delaySeconds: backoff() };
    }
    if (!budget.ok) {
      await release();
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
    await release();
    return composed.kind === 'invalid'
      ? { kind: 'invalid', reason: composed.reason }
      : { kind: 'retry', cause: 'temporary', reason: composed.reason, delaySeconds: backoff() };
  }
  let mime: ComposedMime;
  try {
    mime = await composeMime(composed.mail);
  } catch (err) {
    await release();
    return { kind: 'invalid', reason: `the message could not be composed: ${errorText(err)}` };
  }
  const started = performance.now();
  let sent: SendOutcome;
  try {
    sent = await (await deps.session()).send(mime);
  } catch (err) {
    sent = deps.classifyFailure(err);
  }
  deps.onSendLatency?.(performance.now() - started);

  if (sent.kind === 'sent') {
    try {
      await deps.ledger?.complete(mailId);
    } catch (err) {
      // The mail is out: reporting a failure now would send it twice. Only the dedup window shrinks.
      deps.onWarning?.(`delivery ledger complete failed after a 250: ${errorText(err)}`);
    }
    return { kind: 'sent', duplicate: false, response: sent.response, refused: sent.rejected };
  }
  await release();
  return fromFailedSend(sent, deps, backoff);
}

async function fromFailedSend(
  sent: Exclude<SendOutcome, { kind: 'sent' }>,
  deps: RecordDeps,
  backoff: (floor?: number) => number,
): Promise<RecordOutcome> {
  switch (sent.kind) {
    case 'invalid':
      return { kind: 'invalid', reason: sent.reason };
    case 'rejected':
      return { kind: 'rejected', reason: sent.reason, reply: sent.reply };
    case 'retry': {
      const floor = sent.minDelaySeconds ?? 0;
      // Only throttling replies carry a floor: slow every consumer of this mailbox down with it.
      if (floor > 0 && deps.rateLimiter) {
        try {
          await deps.rateLimiter.penalize(deps.settings.sender, floor);
        } catch (err) {
          deps.onWarning?.(`rate limiter penalize failed: ${errorText(err)}`);
        }
      }
      return {
        kind: 'retry',
        cause: sent.unreachable ? 'unreachable' : 'temporary',
        reason: sent.reason,
        reply: sent.reply,
        delaySeconds: backoff(floor),
      };
    }
    case 'config':
      return {
        kind: 'config',
        reason: sent.reason,
        fix: sent.fix,
        reply: sent.reply,
        delaySeconds: backoff(CONFIG_RETRY_FLOOR_SECONDS),
      };
    default: {
      const unreachable: never = sent;
      throw new Error(`unknown send outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * A configuration fault needs a person, not a quick retry: wait at least 5 minutes so the queue's
 * `maxReceiveCount` is not burnt in minutes while someone reacts to the ConfigErrors alarm.
 */
export const CONFIG_RETRY_FLOOR_SECONDS = 300;

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
