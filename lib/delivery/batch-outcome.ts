/**
 * What became of each record of a batch, as data. The SPEC's five outcomes (sent, invalid,
 * rejected, retry, config), `partial` when its recipients fared differently, and why a retry was
 * chosen, so logs, metrics, the local event source and tests all read the same thing.
 */
import type { SmtpReply } from '../types.ts';

/** Why a record goes back to the queue. */
export type RetryCause =
  /** A temporary reply (4xx, throttling), a dropped connection or a timeout. */
  | 'temporary'
  /** No session: the server or the token endpoint could not be reached at all. */
  | 'unreachable'
  /** The batch stopped on a configuration error before this record was sent. */
  | 'config'
  /** An earlier record of the same FIFO message group failed; order is kept. */
  | 'held-back'
  /** The Lambda was about to time out before this record was sent. */
  | 'out-of-time'
  /** The mailbox's shared send budget is spent. */
  | 'rate-limited'
  /** The delivery ledger says another consumer is sending it right now. */
  | 'in-progress'
  /** It should have gone to the DLQ, but the DLQ send failed: keep it on the queue. */
  | 'dead-letter-failed'
  /** Its deferred recipients' copy could not be put on the queue: keep the whole record there. */
  | 'requeue-failed';

/** Recipients of one message that share a verdict, with the reason (the first reply of theirs). */
export interface RecipientGroup {
  recipients: string[];
  reason: string;
  reply?: SmtpReply;
}

export type RecordOutcome =
  | {
      kind: 'sent';
      /** The delivery ledger said it was already sent: acknowledged without sending again. */
      duplicate: boolean;
      /** Server reply to the end of DATA (absent for a duplicate). */
      response?: string;
    }
  /**
   * The recipients did not all fare alike. Those `accepted` got the message; those `deferred` (a
   * temporary reply) get it later from a copy of the record on the queue that names them alone;
   * those `refused` (a permanent reply) are named by a dead letter. The record is done once the copy
   * and the dead letter are on their queues; both keep the body, so To/Cc and the Message-ID stay.
   */
  | {
      kind: 'partial';
      /** Server reply to the end of DATA; absent when no recipient was accepted. */
      response?: string;
      accepted: string[];
      deferred?: RecipientGroup & { delaySeconds: number };
      refused?: RecipientGroup;
    }
  | { kind: 'invalid'; reason: string }
  /** `recipients`: the record was for some recipients only (it carries `FailureRecipients`). */
  | { kind: 'rejected'; reason: string; reply?: SmtpReply; recipients?: string[] }
  | { kind: 'retry'; cause: RetryCause; reason: string; delaySeconds: number; reply?: SmtpReply }
  /** The sender itself is misconfigured; this record and every later one are retried. */
  | { kind: 'config'; reason: string; fix: string; delaySeconds: number; reply?: SmtpReply };

export interface ProcessedRecord {
  sqsMessageId: string;
  /** The message's `id`, else the SQS message id. */
  mailId: string;
  outcome: RecordOutcome;
  /** The message's `tags` (logs only), when it was parsed and had some. */
  tags?: Record<string, string>;
}

export interface BatchResult {
  records: ProcessedRecord[];
  /**
   * Set when the batch stopped on a configuration error that a probe of the configuration can
   * see fixed (a refused token or AUTH, TLS, a configuration that does not load), for the
   * circuit breaker. A function timeout that is too short is not one of them.
   */
  configError?: { reason: string; fix: string };
  /** What the handler returns to the event source mapping (`ReportBatchItemFailures`). */
  batchItemFailures: { itemIdentifier: string }[];
}

/** Whether the event source mapping must leave the record on the queue. */
export function isBatchItemFailure(outcome: RecordOutcome): boolean {
  switch (outcome.kind) {
    case 'sent':
    case 'partial':
    case 'invalid':
    case 'rejected':
      return false;
    case 'retry':
    case 'config':
      return true;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}
