import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BatchReport,
  createSqsEventSource,
  type SqsLambdaHandler,
} from '../../../../lib/local/sqs-event-source.ts';
import { type SqsEmulator, startSqsEmulator } from '../../../emulators/sqs-emulator.ts';

let sqs: SqsEmulator;
let n = 0;
beforeAll(async () => {
  sqs = await startSqsEmulator();
});
afterAll(() => sqs.stop());

async function queueWith(bodies: string[], attributes: Record<string, string> = {}) {
  const url = await sqs.createQueue(`es-${++n}`, attributes);
  for (const body of bodies) {
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
      }),
    );
  }
  return url;
}

async function inFlight(url: string) {
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('createSqsEventSource', () => {
  it('hands the handler Lambda-shaped records and a Context that counts down', async () => {
    const url = await queueWith(['{"a":1}']);
    let event: SQSEvent | undefined;
    let remaining = 0;
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      functionTimeoutMs: 5_000,
      handler: async (e, context) => {
        event = e;
        remaining = context.getRemainingTimeInMillis();
        return { batchItemFailures: [] };
      },
    });
    await source.runUntilIdle();
    const record = event!.Records[0]!;
    expect(record).toMatchObject({
      body: '{"a":1}',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:es-${n}`,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { origin: { dataType: 'String', stringValue: 'test' } },
    });
    expect(record.attributes.SentTimestamp).toMatch(/^\d+$/);
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(remaining).toBeGreaterThan(4_000);
    expect(remaining).toBeLessThanOrEqual(5_000);
  });

  it('passes FIFO system attributes and binary message attributes as Lambda does', async () => {
    const url = await sqs.createQueue(`es-${++n}.fifo`, { FifoQueue: 'true' });
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'x',
        MessageGroupId: 'tenant-1',
        MessageDeduplicationId: 'd-1',
        MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') } },
      }),
    );
    let event: SQSEvent | undefined;
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      handler: async (e) => {
        event = e;
        return { batchItemFailures: [] };
      },
    });
    await source.runUntilIdle();
    const record = event!.Records[0]!;
    expect(record.eventSourceARN).toMatch(/\.fifo$/);
    expect(record.attributes).toMatchObject({
      MessageGroupId: 'tenant-1',
      MessageDeduplicationId: 'd-1',
    });
    expect(record.messageAttributes.blob).toMatchObject({
      dataType: 'Binary',
      binaryValue: Buffer.from('hi').toString('base64'),
    });
  });

  it('deletes successes and leaves reported failures on the queue', async () => {
    const url = await queueWith(['ok', 'fail', 'ok too']);
    const reports: BatchReport[] = [];
    const handler: SqsLambdaHandler = async (e) => ({
      batchItemFailures: e.Records.filter((r) => r.body === 'fail').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    });
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      handler,
      visibilityTimeout: 60,
      onBatch: (r) => reports.push(r),
    });
    await source.runUntilIdle();
    expect(reports).toHaveLength(1);
    expect(reports[0]!.deleted).toHaveLength(2);
    expect(reports[0]!.failed).toHaveLength(1);
    expect(await inFlight(url)).toEqual({ visible: 0, hidden: 1 });
  });

  it.each([
    [
      'throws',
      async (): Promise<SQSBatchResponse> => {
        throw new Error('boom');
      },
    ],
    [
      'names a record that is not in the batch',
      async (): Promise<SQSBatchResponse> => ({
        batchItemFailures: [{ itemIdentifier: 'not-in-batch' }],
      }),
    ],
    ['runs past the function timeout', () => new Promise<SQSBatchResponse>(() => {})],
  ])('deletes nothing when the handler %s (as Lambda)', async (_, handler) => {
    const url = await queueWith(['a', 'b']);
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      handler,
      visibilityTimeout: 60,
      functionTimeoutMs: 200,
    });
    const report = await source.drainOnce();
    expect(report?.error).toBeInstanceOf(Error);
    expect(report?.deleted).toEqual([]);
    expect(await inFlight(url)).toEqual({ visible: 0, hidden: 2 });
  });

  it('runs parallel pollers until stopped; stop() waits for the batch in flight', async () => {
    const url = await queueWith(Array.from({ length: 6 }, (_, i) => `m${i}`));
    let inHandler = 0;
    let maxInHandler = 0;
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let batches = 0;
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      batchSize: 3,
      concurrency: 2,
      waitTimeSeconds: 1,
      handler: async (e) => {
        inHandler++;
        maxInHandler = Math.max(maxInHandler, inHandler);
        if (++batches === 2) release();
        await gate;
        seen.push(...e.Records.map((r) => r.body));
        inHandler--;
        return { batchItemFailures: [] };
      },
    });
    source.start();
    await gate;
    await source.stop();
    expect(maxInHandler).toBe(2);
    expect(seen.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(await inFlight(url)).toEqual({ visible: 0, hidden: 0 });
  });

  it('receives nothing while its switch says paused, and takes up the queue once it does not', async () => {
    const url = await queueWith(['waiting']);
    let paused = true;
    let asked = 0;
    const seen: string[] = [];
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl: url,
      waitTimeSeconds: 0,
      pausedPollMs: 5,
      isPaused: async () => {
        asked++;
        return paused;
      },
      handler: async (e) => {
        seen.push(...e.Records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
    });
    expect(await source.drainOnce()).toBeUndefined();
    source.start();
    await vi.waitFor(() => expect(asked).toBeGreaterThan(5));
    expect(seen).toEqual([]);
    expect(await inFlight(url)).toEqual({ visible: 1, hidden: 0 });
    paused = false;
    await vi.waitFor(() => expect(seen).toEqual(['waiting']));
    await source.stop();
  });
});
