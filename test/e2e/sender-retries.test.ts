/**
 * Temporary failures end to end: throttling, a connection dropped mid-DATA, the Lambda deadline,
 * and FIFO order across redeliveries. A retried message must come back (visibility backoff, then
 * redelivery) and be sent exactly once.
 */
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BatchReport } from '../../lib/local/sqs-event-source.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
beforeAll(async () => {
  world = await startSenderWorld();
});
afterAll(() => world.stop());
beforeEach(() => {
  world.smtp.reset();
  world.tokens.reset();
});
afterEach(() => world.restoreEnv());

function failedRecords(reports: BatchReport[]): SQSRecord[] {
  return reports.flatMap((r) => r.records.filter((rec) => r.failed.includes(rec.messageId)));
}

/** Stands in for the backoff elapsing: makes the retried records visible now. */
async function fastForward(queueUrl: string, records: SQSRecord[]) {
  for (const record of records) {
    await world.sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
  }
}

async function depth(queueUrl: string) {
  const { Attributes = {} } = await world.sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    invisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('sender end to end: retries', () => {
  it('retries a throttled message after a backoff and sends it on redelivery; the batch goes on', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    // Only the SPEC variables and the SDK's endpoint: no MAIL_QUEUE_URL (derived from the event's
    // queue ARN on that endpoint), no AWS region or credentials (placeholders for a local endpoint).
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, {
        MAIL_QUEUE_URL: undefined,
        AWS_REGION: undefined,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
      }),
    );
    world.smtp.failNextData('432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded');
    await world.enqueue(queueUrl, [mail('throttled'), mail('next')]);
    // Received with a 1 s visibility: only the handler's backoff can keep it hidden longer.
    const source = world.eventSource(handler, queueUrl, {
      visibilityTimeout: 1,
      waitTimeSeconds: 2,
    });
    await source.runUntilIdle();

    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['next']);
    const [retried] = failedRecords(source.reports);
    expect(JSON.parse(retried!.body).subject).toBe('throttled');
    expect(source.reports[0]!.response?.batchItemFailures).toEqual([
      { itemIdentifier: retried!.messageId },
    ]);
    // Still hidden after the receive's own 1 s visibility ran out (a 2 s long poll gets nothing).
    expect(await source.drainOnce()).toBeUndefined();
    expect(await depth(queueUrl)).toEqual({ visible: 0, invisible: 1 });

    await fastForward(queueUrl, [retried!]);
    await source.runUntilIdle();
    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['next', 'throttled']);
    const redelivered = source.reports.at(-1)!.records[0]!;
    expect(redelivered.attributes.ApproximateReceiveCount).toBe('2');
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });

  it('treats the rate-limit reply (421 4.4.2) as a retry, not a rejection', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    world.smtp.failNext(
      'mail',
      '421 4.4.2 Message submission rate for this client has exceeded the configured limit',
    );
    await world.enqueue(queueUrl, [mail('over the rate')]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle();
    expect(world.smtp.messages).toHaveLength(0);
    expect(failedRecords(source.reports)).toHaveLength(1);
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
    await fastForward(queueUrl, failedRecords(source.reports));
    await source.runUntilIdle();
    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['over the rate']);
  });

  it('retries what a connection dropped mid-message took down, and sends it once on a new connection', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    world.smtp.dropNextData();
    await world.enqueue(queueUrl, [mail('dropped'), mail('after drop')]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle();
    expect(world.smtp.stats.droppedMessages).toBe(1);
    // 'after drop' may have been pipelined behind 'dropped' (then it is retried with it) or not.
    const firstRound = world.smtp.messages.map((m) => m.subject);
    const retried = failedRecords(source.reports).map((r) => JSON.parse(r.body).subject);
    expect(retried).toContain('dropped');
    expect([...firstRound, ...retried].sort()).toEqual(['after drop', 'dropped']);

    await fastForward(queueUrl, failedRecords(source.reports));
    await source.runUntilIdle();
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(['after drop', 'dropped']);
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });
});

describe('sender end to end: FIFO', () => {
  it('keeps the order of a message group across a retry', async () => {
    const { queueUrl, dlqUrl } = await world.queues({ fifo: true });
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    const bodies = [mail('a1'), mail('b1'), mail('a2'), mail('b2'), mail('a3')];
    const groups = ['A', 'B', 'A', 'B', 'A'];
    await world.enqueue(queueUrl, bodies, (i) => ({
      MessageGroupId: groups[i],
      MessageDeduplicationId: `dedup-${i}`,
    }));
    // The first message the server sees (a1) gets a temporary reply: a2 and a3 must wait for it.
    world.smtp.faults.failNext('data', '451 4.7.500 Server busy. Please try again later.');
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle();
    const retried = failedRecords(source.reports);
    await fastForward(queueUrl, retried);
    await source.runUntilIdle({ includeInvisible: true });

    const subjects = world.smtp.messages.map((m) => m.subject!);
    const groupA = subjects.filter((s) => s.startsWith('a'));
    const groupB = subjects.filter((s) => s.startsWith('b'));
    expect(groupA).toEqual(['a1', 'a2', 'a3']);
    expect(groupB).toEqual(['b1', 'b2']);
    expect(retried.map((r) => JSON.parse(r.body).subject)).toEqual(['a1']);
  });
});

describe('sender end to end: the deadline, on a server that takes one command at a time', () => {
  // Without PIPELINING a message waits for the one before it, so the clock moves between records
  // (with PIPELINING they are all on the wire at once, each started with time to spare).
  let lockStep: SenderWorld;
  beforeAll(async () => {
    lockStep = await startSenderWorld({ pipelining: false, chunking: false });
  });
  afterAll(() => lockStep.stop());
  afterEach(() => lockStep.restoreEnv());

  it('stops before the function times out: unsent messages return at once and are sent once each', async () => {
    const { queueUrl, dlqUrl } = await lockStep.queues();
    // One send may take up to the 3 s socket timeout; with 7 s per invocation, 5 s must be left
    // to start one. The second message is handed over while the first is on the wire (7 s left);
    // by the time the third is due, the first took 2.5 s and too little is left.
    const handler = await lockStep.loadHandler(
      lockStep.env(queueUrl, dlqUrl, { SMTP_SOCKET_TIMEOUT_MS: '3000' }),
    );
    lockStep.smtp.stallNext('data', 2_500);
    await lockStep.enqueue(queueUrl, [mail('slow'), mail('second'), mail('third')]);
    const source = lockStep.eventSource(handler, queueUrl, { functionTimeoutMs: 7_000 });
    await source.runUntilIdle({ includeInvisible: true });

    const first = source.reports[0]!;
    expect(first.error).toBeUndefined();
    expect(first.deleted).toHaveLength(2);
    expect(first.failed).toHaveLength(1);
    expect(first.response?.batchItemFailures).toEqual([
      { itemIdentifier: first.records[2]!.messageId },
    ]);
    expect(lockStep.smtp.messages.map((m) => m.subject)).toEqual(['slow', 'second', 'third']);
    expect(lockStep.smtp.stats.protocolErrors).toBe(0);
    expect(await lockStep.receiveAll(dlqUrl)).toEqual([]);
  });
});
