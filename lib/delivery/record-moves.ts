/**
 * The SQS side of a record's outcome, once it is decided: a dead letter for whoever can never get
 * the message, a copy on the queue for the recipients that get it later, and then the delivery
 * ledger's verdict closed. A move that fails is reported, so the batch keeps the record.
 */
import type { SQSRecord } from 'aws-lambda';
import type { DeliveryLedger } from '../types.ts';
import type { RecordOutcome } from './batch-outcome.ts';
import { type DeadLetterReason, deadLetter } from './dead-letter.ts';
import type { SqsSender } from './lazy-sqs-client.ts';
import { requeueForRecipients } from './requeue-for-recipients.ts';

export interface MovesDeps {
  sqs: SqsSender;
  dlqUrl: string;
  /** The record's own queue, for copies; undefined when it cannot be known. */
  queueUrl: string | undefined;
  now: () => Date;
  /** A dead letter had to leave attributes out (a body near SQS's 1 MiB). */
  onTrimmed: (trimmed: string, reason: string) => void;
}

export type Moved =
  | { ok: true }
  | { ok: false; cause: 'dead-letter-failed' | 'requeue-failed'; error: string };

/** The SQS side of an outcome: dead letters for who can never get it, a copy for who gets it later. */
export async function carryOut(
  record: SQSRecord,
  mailId: string,
  outcome: RecordOutcome,
  deps: MovesDeps,
): Promise<Moved> {
  const toDlq = async (why: Omit<DeadLetterReason, 'at' | 'mailId'>): Promise<Moved> => {
    const moved = await deadLetter(deps.sqs, deps.dlqUrl, record, {
      ...why,
      at: deps.now(),
      mailId,
    });
    if (!moved.ok) {
      return { ok: false, cause: 'dead-letter-failed', error: `DLQ send failed (${moved.error})` };
    }
    if (moved.trimmed) deps.onTrimmed(moved.trimmed, why.reason);
    return { ok: true };
  };
  switch (outcome.kind) {
    case 'invalid':
      return toDlq({ failureClass: 'invalid', reason: outcome.reason });
    case 'rejected':
      return toDlq({
        failureClass: 'rejected',
        reason: outcome.reason,
        ...(outcome.recipients && { recipients: outcome.recipients }),
      });
    case 'partial': {
      if (outcome.deferred) {
        const { recipients, delaySeconds } = outcome.deferred;
        const copied = deps.queueUrl
          ? await requeueForRecipients(
              deps.sqs,
              deps.queueUrl,
              record,
              recipients,
              delaySeconds,
              mailId,
            )
          : { ok: false as const, error: 'no queue URL (set MAIL_QUEUE_URL)' };
        if (!copied.ok) {
          const error = `the copy for the deferred recipients was not queued (${copied.error})`;
          return { ok: false, cause: 'requeue-failed', error };
        }
      }
      if (outcome.refused) {
        const { recipients, reason } = outcome.refused;
        return toDlq({ failureClass: 'rejected', reason, recipients });
      }
      return { ok: true };
    }
    case 'sent':
    case 'retry':
    case 'config':
      return { ok: true };
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * A carried-out verdict leaves the ledger: a refused message is forgotten, so its redrive after a
 * fix is sent; a split one is remembered as sent (its remaining recipients have records of their own).
 */
export async function finishVerdict(
  ledger: DeliveryLedger,
  ledgerKey: string,
  outcome: RecordOutcome,
  warn: (message: string, error: string) => void,
): Promise<void> {
  try {
    if (outcome.kind === 'partial') await ledger.complete(ledgerKey);
    else await ledger.release(ledgerKey);
  } catch (err) {
    warn(
      'delivery ledger could not close the verdict; it expires with the ledger TTL',
      String(err),
    );
  }
}
