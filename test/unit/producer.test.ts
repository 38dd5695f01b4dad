/**
 * The retry and option rules of MailQueue that fauxqs cannot provoke (SQS-side entry failures,
 * transient call failures). The happy paths run against fauxqs in test/integration/producer.test.ts.
 */
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidSendOptionsError, QueueSendError } from '../../lib/errors.ts';
import { MailQueue } from '../../lib/producer/mail-queue.ts';

const STANDARD = 'http://127.0.0.1:1/000000000000/mail';
const FIFO = 'http://127.0.0.1:1/000000000000/mail.fifo';
const client = new SQSClient({ region: 'us-east-1' });
const sqs = mockClient(client);

const mail = (n: number) => ({ id: `m-${n}`, to: ['a@example.com'], subject: `s${n}`, text: 't' });
const queue = (queueUrl = STANDARD) =>
  new MailQueue({ queueUrl, client, maxAttempts: 3, retryBaseDelayMs: 1 });
const sentIds = (call: number) =>
  (sqs.commandCalls(SendMessageBatchCommand)[call]?.args[0].input.Entries ?? []).map((e) => e.Id);

const serviceError = (name: string, fault: 'client' | 'server', status: number) =>
  new SQSServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: name,
  });

beforeEach(() => {
  sqs.reset();
});

describe('MailQueue.sendBatch retries', () => {
  it('retries only the entries SQS failed on its own side, and reports sender faults at once', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'sqs-0', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError' },
          { Id: '2', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad' },
        ],
      })
      .resolvesOnce({ Successful: [{ Id: '1', MessageId: 'sqs-1', MD5OfMessageBody: '' }] });

    const results = await queue().sendBatch([mail(0), mail(1), mail(2)]);

    expect(results[0]).toEqual({ ok: true, messageId: 'sqs-0', id: 'm-0' });
    expect(results[1]).toEqual({ ok: true, messageId: 'sqs-1', id: 'm-1' });
    expect(results[2]?.ok).toBe(false);
    const error = results[2]?.ok === false ? results[2].error : undefined;
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({ code: 'InvalidParameterValue', retryable: false });
    expect(sentIds(0)).toEqual(['0', '1', '2']);
    expect(sentIds(1)).toEqual(['1']);
  });

  it('gives up on an entry after maxAttempts and says it may succeed later', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', SenderFault: false, Code: 'ServiceUnavailable' }],
    });

    const [result] = await queue().sendBatch([mail(0)]);

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    expect(result?.ok === false && result.error).toMatchObject({
      name: 'QueueSendError',
      code: 'ServiceUnavailable',
      retryable: true,
    });
  });

  it('retries a whole call that failed transiently', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejectsOnce(serviceError('InternalError', 'server', 500))
      .resolves({ Successful: [{ Id: '0', MessageId: 'sqs-0', MD5OfMessageBody: '' }] });

    expect(await queue().sendBatch([mail(0)])).toEqual([
      { ok: true, messageId: 'sqs-0', id: 'm-0' },
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
  });

  it('does not retry a call SQS refused for a client fault (e.g. a missing queue)', async () => {
    sqs.on(SendMessageBatchCommand).rejects(serviceError('QueueDoesNotExist', 'client', 400));

    const results = await queue().sendBatch([mail(0), mail(1)]);

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    for (const result of results) {
      expect(result.ok === false && result.error).toMatchObject({
        code: 'QueueDoesNotExist',
        retryable: false,
      });
    }
  });
});

describe('MailQueue.send', () => {
  it('wraps an SQS error in QueueSendError, keeping the cause', async () => {
    const cause = serviceError('QueueDoesNotExist', 'client', 400);
    sqs.on(SendMessageCommand).rejects(cause);

    const error = await queue()
      .send(mail(0))
      .catch((e) => e);

    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({ code: 'QueueDoesNotExist', retryable: false, cause });
  });

  it('passes groupId, deduplicationId and delaySeconds to SQS', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'x' });
    await queue(FIFO).send(mail(0), { groupId: 'g-1', deduplicationId: 'd-1' });
    await queue().send(mail(1), { delaySeconds: 60, groupId: 'fair-1' });

    const [fifo, standard] = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(fifo).toMatchObject({ MessageGroupId: 'g-1', MessageDeduplicationId: 'd-1' });
    expect(standard).toMatchObject({ DelaySeconds: 60, MessageGroupId: 'fair-1' });
    expect(standard?.MessageDeduplicationId).toBeUndefined();
  });
});

describe('MailQueue options', () => {
  it('refuses a queueUrl that is not a URL, naming the option', () => {
    expect(() => new MailQueue({ queueUrl: 'mail-queue', client })).toThrow(
      expect.objectContaining({ name: 'InvalidSendOptionsError', option: 'queueUrl' }),
    );
  });

  it.each([
    ['delaySeconds', STANDARD, { delaySeconds: 901 }],
    ['delaySeconds', STANDARD, { delaySeconds: 1.5 }],
    ['delaySeconds', FIFO, { groupId: 'g', delaySeconds: 5 }],
    ['deduplicationId', STANDARD, { deduplicationId: 'd' }],
    ['groupId', FIFO, {}],
    ['groupId', FIFO, { groupId: 'has space' }],
  ])('rejects a bad %s before sending anything (%s, %o)', async (option, url, options) => {
    const error = await queue(url)
      .send(mail(0), options)
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidSendOptionsError);
    expect(error.option).toBe(option);
    expect(sqs.calls()).toHaveLength(0);
  });
});
