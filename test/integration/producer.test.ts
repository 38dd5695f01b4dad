import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidMailMessageError, InvalidSendOptionsError } from '../../lib/errors.ts';
import { parseMailMessage, parseMailMessageJson } from '../../lib/message/parse-mail-message.ts';
import { MailQueue } from '../../lib/producer/mail-queue.ts';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';

let sqs: SqsEmulator;
let queueCount = 0;

beforeAll(async () => {
  sqs = await startSqsEmulator();
});
afterAll(() => sqs.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

const mail = (n: number, extra: Record<string, unknown> = {}) => ({
  to: [`Recipient ${n} <r${n}@example.com>`],
  subject: `Report ${n}`,
  text: `Body ${n}`,
  ...extra,
});

async function newQueue(fifo = false): Promise<string> {
  queueCount += 1;
  const name = fifo ? `mail-${queueCount}.fifo` : `mail-${queueCount}`;
  return sqs.createQueue(name, fifo ? { FifoQueue: 'true' } : undefined);
}

/**
 * Receives (and deletes, which unlocks the next message of a FIFO group) until `expected` messages
 * arrived or one long poll comes back empty.
 */
async function receiveAll(queueUrl: string, expected: number): Promise<Message[]> {
  const got: Message[] = [];
  while (got.length < expected) {
    const out = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageDeduplicationId', 'MessageGroupId'],
      }),
    );
    if (!out.Messages?.length) break;
    got.push(...out.Messages);
    await sqs.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: out.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return got;
}

async function depth(queueUrl: string): Promise<number> {
  const out = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

describe('MailQueue.send on a standard queue', () => {
  it('puts the message as written on the queue, with an assigned id the consumer accepts', async () => {
    const queueUrl = await newQueue();
    const queue = new MailQueue({ queueUrl, client: sqs.client });

    const messageId = await queue.send(mail(1, { tags: { job: 'nightly' } }));

    const [received] = await receiveAll(queueUrl, 1);
    expect(received?.MessageId).toBe(messageId);
    const body = JSON.parse(received?.Body ?? '');
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // As written, so the size the contract checked is the size on the queue.
    expect(body).toEqual({ id: body.id, ...mail(1, { tags: { job: 'nightly' } }) });
    expect(parseMailMessageJson(received?.Body ?? '')).toEqual({
      ok: true,
      message: { ...parseMailMessage(mail(1, { tags: { job: 'nightly' } })), id: body.id },
    });
  });

  it("keeps the producer's own id", async () => {
    const queueUrl = await newQueue();
    await new MailQueue({ queueUrl, client: sqs.client }).send(
      mail(2, { id: 'invoice-2024-0001' }),
    );
    const [received] = await receiveAll(queueUrl, 1);
    expect(JSON.parse(received?.Body ?? '').id).toBe('invoice-2024-0001');
  });

  it('throws InvalidMailMessageError and sends nothing for an invalid message', async () => {
    const queueUrl = await newQueue();
    const queue = new MailQueue({ queueUrl, client: sqs.client });
    const error = await queue.send({ ...mail(3), to: ['not-an-address'] }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidMailMessageError);
    expect(error.issues).toEqual([expect.objectContaining({ path: 'to[0]' })]);
    expect(await depth(queueUrl)).toBe(0);
  });
});

describe('MailQueue on a FIFO queue', () => {
  it('refuses to send without a groupId, naming the option', async () => {
    const queueUrl = await newQueue(true);
    const queue = new MailQueue({ queueUrl, client: sqs.client });
    const error = await queue.send(mail(4)).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidSendOptionsError);
    expect(error.option).toBe('groupId');
    expect(error.message).toContain('groupId');
    await expect(queue.sendBatch([mail(5)])).rejects.toThrow(/groupId/);
    expect(await depth(queueUrl)).toBe(0);
  });

  it('uses the message id as deduplication id, so a repeated send is delivered once', async () => {
    const queueUrl = await newQueue(true);
    const queue = new MailQueue({ queueUrl, client: sqs.client });
    const message = mail(6, { id: 'order-6-confirmation' });

    await queue.send(message, { groupId: 'tenant-a' });
    await queue.send(message, { groupId: 'tenant-a' });
    const [again] = await queue.sendBatch([message], { groupId: 'tenant-a' });
    expect(again?.ok).toBe(true);

    const received = await receiveAll(queueUrl, 2);
    expect(received).toHaveLength(1);
    expect(received[0]?.Attributes?.MessageDeduplicationId).toBe('order-6-confirmation');
    expect(received[0]?.Attributes?.MessageGroupId).toBe('tenant-a');
  });

  it('keeps the order of a batch larger than one SendMessageBatch call', async () => {
    const queueUrl = await newQueue(true);
    const queue = new MailQueue({ queueUrl, client: sqs.client });
    const messages = Array.from({ length: 13 }, (_, i) => mail(i, { id: `m-${i}` }));

    const results = await queue.sendBatch(messages, { groupId: 'g' });

    expect(results.every((r) => r.ok)).toBe(true);
    const received = await receiveAll(queueUrl, 13);
    expect(received.map((m) => JSON.parse(m.Body ?? '').id)).toEqual(
      messages.map((_, i) => `m-${i}`),
    );
  });
});

describe('MailQueue.sendBatch on a standard queue', () => {
  it.each([
    [1, 1],
    [10, 1],
    [25, 3],
  ])(
    'sends a batch of %i in %i SendMessageBatch call(s), one result per message in order',
    async (size, calls) => {
      const queueUrl = await newQueue();
      const queue = new MailQueue({ queueUrl, client: sqs.client });
      const messages = Array.from({ length: size }, (_, i) => mail(i));
      const spy = vi.spyOn(sqs.client, 'send');

      const results = await queue.sendBatch(messages);

      const batchCalls = spy.mock.calls.filter(([c]) => c instanceof SendMessageBatchCommand);
      expect(batchCalls).toHaveLength(calls);
      for (const [command] of batchCalls) {
        expect((command as SendMessageBatchCommand).input.Entries?.length).toBeLessThanOrEqual(10);
      }
      expect(results).toHaveLength(size);
      const sent = results.map((r) => (r.ok ? r : expect.fail(`result not ok: ${r.error}`)));
      const received = await receiveAll(queueUrl, size);
      expect(received).toHaveLength(size);
      const byId = new Map(received.map((m) => [JSON.parse(m.Body ?? '').id, m]));
      sent.forEach((result, i) => {
        const got = byId.get(result.id);
        expect(got?.MessageId).toBe(result.messageId);
        expect(JSON.parse(got?.Body ?? '').subject).toBe(`Report ${i}`);
      });
    },
  );

  it('fails an invalid message alone and still sends the others', async () => {
    const queueUrl = await newQueue();
    const queue = new MailQueue({ queueUrl, client: sqs.client });

    const results = await queue.sendBatch([
      mail(0),
      { ...mail(1), to: [] },
      mail(2),
      { ...mail(3), headers: { Bcc: 'everyone@example.com' } },
      'not even an object',
    ]);

    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, false]);
    const pathsOf = (i: number) => {
      const r = results[i];
      if (r?.ok !== false || !(r.error instanceof InvalidMailMessageError)) return expect.fail();
      return r.error.issues.map((issue) => issue.path);
    };
    expect(pathsOf(1)).toEqual(['to']);
    expect(pathsOf(3)).toEqual(['headers.Bcc']);
    expect(pathsOf(4)).toEqual(['']);
    const received = await receiveAll(queueUrl, 2);
    expect(received.map((m) => JSON.parse(m.Body ?? '').subject).sort()).toEqual([
      'Report 0',
      'Report 2',
    ]);
  });

  it('splits a batch whose bodies exceed 1 MiB into several calls', async () => {
    const queueUrl = await newQueue();
    const queue = new MailQueue({ queueUrl, client: sqs.client });
    // ~400 KiB each: two fit in one 1 MiB call, the third needs another.
    const content = Buffer.alloc(300 * 1024, 7).toString('base64');
    const messages = [0, 1, 2].map((i) =>
      mail(i, { attachments: [{ filename: `report-${i}.bin`, content }] }),
    );
    const spy = vi.spyOn(sqs.client, 'send');

    const results = await queue.sendBatch(messages);

    expect(results.every((r) => r.ok)).toBe(true);
    const calls = spy.mock.calls.filter(([c]) => c instanceof SendMessageBatchCommand);
    expect(calls.map(([c]) => (c as SendMessageBatchCommand).input.Entries?.length)).toEqual([
      2, 1,
    ]);
    expect(await receiveAll(queueUrl, 3)).toHaveLength(3);
  });

  it('returns an empty list for an empty batch without calling SQS', async () => {
    const queue = new MailQueue({ queueUrl: await newQueue(), client: sqs.client });
    const spy = vi.spyOn(sqs.client, 'send');
    expect(await queue.sendBatch([])).toEqual([]);
    expect(spy).not.toHaveBeenCalled();
  });
});
