import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type LocalPipeline,
  type MessageOutcome,
  startLocalPipeline,
} from '../../lib/local/local-pipeline.ts';

let pipeline: LocalPipeline | undefined;

afterAll(async () => {
  await pipeline?.stop();
});

describe('local pipeline', () => {
  it('reports each retry, then the queue dead-lettering a message after maxReceiveCount deliveries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'o365-pipeline-'));
    const outcomes: MessageOutcome[] = [];
    let exhausted: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      exhausted = resolve;
    });
    pipeline = await startLocalPipeline({
      sqsPort: 0,
      smtp: 'capture',
      outboxDir: join(dir, 'outbox'),
      tlsDir: join(dir, 'tls'),
      // Retries come back within a second: the test is about counting deliveries, not waiting.
      retryTimeScale: 0.001,
      onOutcome(outcome) {
        outcomes.push(outcome);
        if (outcome.kind === 'retries-exhausted') exhausted();
      },
    });
    // No SMTP server at all: every delivery fails to connect, a temporary failure.
    await pipeline.capture!.stop();

    await pipeline.sqs.client.send(
      new SendMessageCommand({
        QueueUrl: pipeline.sqs.queueUrl,
        MessageBody: JSON.stringify({
          id: 'never-sent',
          to: ['ann@example.com'],
          subject: 'Hi',
          text: 'x',
        }),
      }),
    );
    await done;

    const retries = outcomes.filter((o) => o.kind === 'retry');
    expect(retries.map((o) => o.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(retries[0]).toMatchObject({
      mailId: 'never-sent',
      subject: 'Hi',
      to: ['ann@example.com'],
    });
    expect(retries[0]!.reason).toMatch(/ECONNREFUSED|refused|connect/i);
    // Reported in order, although the queue moves it on the 6th receive, which can come before
    // the 5th invocation has returned.
    expect(outcomes.at(-1)).toMatchObject({
      kind: 'retries-exhausted',
      mailId: 'never-sent',
      attempt: 5,
    });
    expect(outcomes).toHaveLength(6);
  });
});
