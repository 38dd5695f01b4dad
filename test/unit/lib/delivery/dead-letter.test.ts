import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetter,
  MAX_FAILURE_REASON_LENGTH,
  truncateReason,
} from '../../../../lib/delivery/dead-letter.ts';
import { type SqsEmulator, startSqsEmulator } from '../../../emulators/sqs-emulator.ts';

let sqs: SqsEmulator;
beforeAll(async () => {
  sqs = await startSqsEmulator();
});
afterAll(() => sqs.stop());

const record = (body: string, groupId?: string): SQSRecord => ({
  messageId: `m-${Math.random().toString(36).slice(2)}`,
  receiptHandle: 'rh',
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 'x',
    ApproximateFirstReceiveTimestamp: '0',
    ...(groupId ? { MessageGroupId: groupId } : {}),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
  awsRegion: 'us-east-1',
});

async function receiveAll(url: string) {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

describe('deadLetter', () => {
  it('keeps the body byte for byte and attaches class, reason and time', async () => {
    const dlq = await sqs.createQueue('dl-standard');
    const body = '{"to":["a@example.com"],  "subject":"ünïcode ✓"}';
    const at = new Date('2026-11-22T08:00:00.000Z');
    const result = await deadLetter(sqs.client, dlq, record(body), {
      failureClass: 'rejected',
      reason: '550 5.1.10 RESOLVER.ADR.RecipientNotFound;\r\n Recipient not found',
      at,
    });
    expect(result).toEqual({ ok: true });
    const [message] = await receiveAll(dlq);
    expect(message?.Body).toBe(body);
    expect(message?.MessageAttributes).toMatchObject({
      FailureClass: { StringValue: 'rejected' },
      FailureReason: {
        StringValue: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found',
      },
      FailureAt: { StringValue: '2026-11-22T08:00:00.000Z' },
    });
  });

  it('keeps the message group on a FIFO DLQ and dedups a repeated move of the same delivery', async () => {
    const dlq = await sqs.createQueue('dl.fifo', { FifoQueue: 'true' });
    const r = record('{}', 'tenant-1');
    const why = { failureClass: 'invalid' as const, reason: 'not JSON', at: new Date() };
    expect(await deadLetter(sqs.client, dlq, r, why)).toEqual({ ok: true });
    expect(await deadLetter(sqs.client, dlq, r, why)).toEqual({ ok: true });
    const messages = await receiveAll(dlq);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('tenant-1');
  });

  it('reports a failed DLQ send instead of throwing, so the caller keeps the record', async () => {
    const result = await deadLetter(
      sqs.client,
      `${sqs.endpoint}/000000000000/missing`,
      record('{}'),
      {
        failureClass: 'invalid',
        reason: 'x',
        at: new Date(),
      },
    );
    expect(result.ok).toBe(false);
  });

  it('truncates long reasons visibly and keeps them on one line', () => {
    const long = `550 ${'x'.repeat(5000)}`;
    const out = truncateReason(long);
    expect(out).toHaveLength(MAX_FAILURE_REASON_LENGTH);
    expect(out.endsWith('…')).toBe(true);
    expect(truncateReason('a\r\nb')).toBe('a b');
  });
});
