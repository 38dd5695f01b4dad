import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';

describe('SQS emulator helper', () => {
  let sqs: SqsEmulator;
  beforeAll(async () => {
    sqs = await startSqsEmulator();
  });
  afterAll(() => sqs.stop());

  it('round-trips a message through a path-style queue URL on 127.0.0.1', async () => {
    const { queueUrl } = await sqs.createQueueWithDlq('smoke');
    expect(queueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/smoke$/);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }));
    const got = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(got.Messages?.[0]?.Body).toBe('hello');
  });
});
