import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadLetter,
  MAX_FAILURE_REASON_LENGTH,
  truncateReason,
} from '../../../../lib/delivery/dead-letter.ts';
import { failureRecipientsOf } from '../../../../lib/delivery/failure-recipients.ts';
import { requeueForRecipients } from '../../../../lib/delivery/requeue-for-recipients.ts';
import {
  MAX_BODY_BYTES,
  SQS_MAX_MESSAGE_BYTES,
} from '../../../../lib/message/mail-message-limits.ts';
import { parseMailMessageJson } from '../../../../lib/message/parse-mail-message.ts';
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

  it('fits a body of the contract maximum with every attribute, listing hundreds of recipients by position', async () => {
    const dlq = await sqs.createQueue('dl-edge');
    const refused = Array.from(
      { length: 499 },
      (_, i) => `recipient-number-${i}@a-long-domain-name.example.com`,
    );
    const body = bodyOf(MAX_BODY_BYTES, { to: ['ann@example.com', ...refused] });
    const reason = `550 5.1.10 ${'x'.repeat(2000)}`;
    const result = await deadLetter(sqs.client, dlq, record(body), {
      failureClass: 'rejected',
      reason,
      at: new Date(),
      recipients: refused,
      mailId: 'edge-1',
    });
    expect(result).toEqual({ ok: true });
    const [message] = await receiveAll(dlq);
    expect(message?.Body).toBe(body);
    const attributes = message!.MessageAttributes!;
    expect(attributes.FailureReason!.StringValue).toBe(truncateReason(reason));
    expect(attributes.FailureRecipients!.StringValue).toMatch(/^#1,2,3,.*,499$/);
    // A redrive of it reaches exactly those recipients.
    const parsed = parseMailMessageJson(body);
    if (!parsed.ok) throw new Error('test body is invalid');
    const redriven = {
      ...record(body),
      messageAttributes: {
        FailureRecipients: {
          stringValue: attributes.FailureRecipients!.StringValue!,
          dataType: 'String',
        },
      },
    };
    expect(failureRecipientsOf(redriven, parsed.message)).toEqual(refused);
  });

  it('moves an oversize body with a shortened reason, and what cannot fit left out, instead of failing', async () => {
    const dlq = await sqs.createQueue('dl-oversize');
    const nearlyFull = bodyOf(SQS_MAX_MESSAGE_BYTES - 60);
    const shortened = await deadLetter(sqs.client, dlq, record(nearlyFull), {
      failureClass: 'invalid',
      reason: `invalid message: the message is too big: ${SQS_MAX_MESSAGE_BYTES - 60} bytes`,
      at: new Date(),
    });
    expect(shortened).toEqual({ ok: true, trimmed: 'FailureAt left out, FailureReason shortened' });
    const full = bodyOf(SQS_MAX_MESSAGE_BYTES);
    expect(
      await deadLetter(sqs.client, dlq, record(full), {
        failureClass: 'invalid',
        reason: 'too big',
        at: new Date(),
      }),
    ).toEqual({
      ok: true,
      trimmed: 'FailureClass left out, FailureAt left out, FailureReason left out',
    });
    const messages = await receiveAll(dlq);
    expect(messages.map((m) => m.Body?.length).sort()).toEqual(
      [SQS_MAX_MESSAGE_BYTES - 60, SQS_MAX_MESSAGE_BYTES].sort(),
    );
    const first = messages.find((m) => m.Body === nearlyFull)!;
    expect(first.MessageAttributes).toMatchObject({
      FailureClass: { StringValue: 'invalid' },
      FailureReason: { StringValue: expect.stringMatching(/^invalid mess.*…$/) },
    });
  });

  it('puts a copy for deferred recipients back with positions when addresses would not fit', async () => {
    const queue = await sqs.createQueue('copies');
    const deferred = Array.from({ length: 300 }, (_, i) => `deferred-recipient-${i}@example.com`);
    const body = bodyOf(MAX_BODY_BYTES, { to: deferred });
    expect(
      await requeueForRecipients(sqs.client, queue, record(body), deferred.slice(1), 0, 'edge-2'),
    ).toEqual({ ok: true });
    const [copy] = await receiveAll(queue);
    expect(copy?.MessageAttributes?.FailureRecipients?.StringValue).toMatch(/^#1,2,.*,299$/);
    expect(copy?.MessageAttributes?.MailId?.StringValue).toBe('edge-2');
  });
});

/** A mail message body of exactly `bytes` bytes. */
function bodyOf(bytes: number, extra: Record<string, unknown> = {}): string {
  const shape = { id: 'edge-1', to: ['ann@example.com'], subject: 'Edge', ...extra, text: '' };
  const padding = bytes - Buffer.byteLength(JSON.stringify(shape));
  const body = JSON.stringify({ ...shape, text: 'x'.repeat(padding) });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}
