import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import { runCli } from './run-cli.ts';

let sqs: SqsEmulator;
let queueUrl: string;
let dlqUrl: string;

beforeAll(async () => {
  sqs = await startSqsEmulator();
  ({ queueUrl, dlqUrl } = await sqs.createQueueWithDlq('stats-mail'));
  const send = (url: string, delay?: number) =>
    sqs.client.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: '{}', DelaySeconds: delay }),
    );
  await send(queueUrl);
  await send(queueUrl);
  await send(queueUrl);
  await send(queueUrl, 900);
  await send(dlqUrl);
  // One in flight, as if a sender were working on it.
  await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      VisibilityTimeout: 600,
    }),
  );
});
afterAll(async () => {
  await sqs?.stop();
});

describe('o365-mail stats', () => {
  it('shows depth, in flight, delayed, DLQ depth and the oldest message age', async () => {
    const run = await runCli(['stats', '--queue-url', queueUrl, '--dlq-url', dlqUrl]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/mail queue\s+2\s+1\s+1\s+\d+s/);
    expect(run.stdout).toMatch(/dead letters\s+1\s+0\s+0\s+\d+s/);
  });

  it('answers --json, the DLQ found through the redrive policy, ages read from the emulator', async () => {
    const run = await runCli(['stats', '--json', '--queue-url', queueUrl]);

    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.queue).toMatchObject({
      url: queueUrl,
      visible: 2,
      inFlight: 1,
      delayed: 1,
      ageSource: 'emulator',
    });
    expect(doc.dlq).toMatchObject({ url: dlqUrl, visible: 1, ageSource: 'emulator' });
    expect(doc.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('exits 3 when the queue service cannot be reached', async () => {
    const run = await runCli(['stats', '--queue-url', 'http://127.0.0.1:9/000000000000/nowhere']);

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ECONNREFUSED|connect/);
  });
});
