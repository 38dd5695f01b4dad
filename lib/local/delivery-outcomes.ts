import type { SqsSpyMessage } from 'fauxqs';
import { summarizeMailBody } from '../cli/dead-letters.ts';
import type { EmbeddedSqs } from './embedded-sqs.ts';
import { LOCAL_DLQ_NAME, LOCAL_MAX_RECEIVE_COUNT, LOCAL_QUEUE_NAME } from './local-defaults.ts';
import type { SenderLogTap } from './sender-log-tap.ts';
import type { BatchReport } from './sqs-event-source.ts';

/** What became of one delivery of one message, as the local pipeline saw it. */
export interface MessageOutcome {
  kind: 'sent' | 'retry' | 'dead-lettered' | 'retries-exhausted' | 'handler-error';
  sqsMessageId: string;
  mailId?: string;
  subject?: string;
  to?: string[];
  /** Which delivery this was (SQS `ApproximateReceiveCount`). */
  attempt: number;
  /** `invalid` / `rejected` for a message the sender dead-lettered. */
  failureClass?: string;
  reason?: string;
  /** For a retry: the delay the sender asked for. */
  delaySeconds?: number;
}

/**
 * The outcome of each record of one invocation: a retry when the handler reported it in
 * `batchItemFailures`, dead-lettered when the sender put a copy with `FailureClass` on the DLQ
 * (seen through fauxqs' message spy), sent otherwise. The reason comes from the sender's own log
 * line for the record.
 */
export function outcomesOf(
  batch: BatchReport,
  sqs: EmbeddedSqs,
  tap: SenderLogTap,
  attributed: Set<string>,
): MessageOutcome[] {
  const failed = new Set(batch.failed);
  return batch.records.map((record) => {
    const logged = tap.take(record.messageId);
    const base = {
      sqsMessageId: record.messageId,
      ...summarizeMailBody(record.body),
      attempt: Number(record.attributes.ApproximateReceiveCount ?? 1),
    };
    if (batch.error) {
      return { ...base, kind: 'handler-error', reason: String(batch.error) } as const;
    }
    if (failed.has(record.messageId)) {
      return {
        ...base,
        kind: 'retry',
        reason: logged?.reason,
        delaySeconds: logged?.delaySeconds,
      } as const;
    }
    // The sender moved it to the DLQ itself (a copy with FailureClass) or it was sent.
    const copy = sqs.server.spy.checkForMessage(
      (m) =>
        m.service === 'sqs' &&
        m.queueName === LOCAL_DLQ_NAME &&
        m.body === record.body &&
        'FailureClass' in m.messageAttributes &&
        !attributed.has(m.messageId),
      'published',
    ) as SqsSpyMessage | undefined;
    if (!copy) return { ...base, kind: 'sent' } as const;
    attributed.add(copy.messageId);
    return {
      ...base,
      kind: 'dead-lettered',
      failureClass: copy.messageAttributes.FailureClass?.StringValue,
      reason: copy.messageAttributes.FailureReason?.StringValue ?? logged?.reason,
    } as const;
  });
}

/**
 * Records handed to the handler whose outcome has not been reported yet. The sender makes a
 * retried record visible again before the invocation returns, so the queue may already
 * dead-letter it on the next receive; its "retries exhausted" line waits for the retry line.
 */
export class InFlightRecords {
  // A count, not a flag: with a retry delay of 0 the next delivery of a record can start before
  // the invocation that retried it has been reported.
  readonly #count = new Map<string, number>();
  readonly #waiters = new Map<string, (() => void)[]>();

  add(id: string): void {
    this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
  }

  settle(id: string): void {
    const left = (this.#count.get(id) ?? 1) - 1;
    if (left > 0) {
      this.#count.set(id, left);
      return;
    }
    this.#count.delete(id);
    for (const wake of this.#waiters.get(id) ?? []) wake();
    this.#waiters.delete(id);
  }

  /** Resolves once no delivery of `id` is in flight (at once when none is). */
  settled(id: string): Promise<void> {
    if (!this.#count.has(id)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.set(id, [...(this.#waiters.get(id) ?? []), resolve]);
    });
  }
}

/** Reports messages the queue itself moved to the DLQ after maxReceiveCount failed deliveries. */
export function watchRedriveExhaustion(
  sqs: EmbeddedSqs,
  inFlight: InFlightRecords,
  report: (outcome: MessageOutcome) => void,
): { stop: () => Promise<void> } {
  let running = true;
  const seen = new Set<string>();
  const isNew = (m: { service: string }) =>
    m.service === 'sqs' &&
    (m as SqsSpyMessage).queueName === LOCAL_QUEUE_NAME &&
    !seen.has((m as SqsSpyMessage).messageId);
  const loop = async () => {
    while (running) {
      const moved = (await sqs.server.spy.waitForMessage(isNew, 'dlq').catch(() => undefined)) as
        | SqsSpyMessage
        | undefined;
      if (!moved || !running) return;
      seen.add(moved.messageId);
      await inFlight.settled(moved.messageId);
      report({
        kind: 'retries-exhausted',
        sqsMessageId: moved.messageId,
        ...summarizeMailBody(moved.body),
        attempt: LOCAL_MAX_RECEIVE_COUNT,
        reason: 'every delivery failed; the queue moved it to the DLQ (maxReceiveCount)',
      });
    }
  };
  const done = loop();
  return {
    async stop() {
      running = false;
      // clear() rejects the pending wait, which ends the loop.
      sqs.server.spy.clear();
      await done;
    },
  };
}
