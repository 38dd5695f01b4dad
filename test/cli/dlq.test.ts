import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import { runCli } from './run-cli.ts';

let sqs: SqsEmulator;
let queueUrl: string;
let dlqUrl: string;
let queueCount = 0;

const notification = { to: ['ann@example.com'], subject: 'Your order shipped', text: 'Hi' };
const unknownRecipient = {
  id: 'order-42',
  to: ['nobody@example.invalid'],
  subject: 'Invoice 42',
  text: 'Attached',
};

async function deadLetter(
  body: unknown,
  failure?: { cls: string; reason: string; extra?: Record<string, string> },
) {
  const { MessageId } = await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      MessageAttributes: failure && {
        FailureClass: { DataType: 'String', StringValue: failure.cls },
        FailureReason: { DataType: 'String', StringValue: failure.reason },
        FailureAt: { DataType: 'String', StringValue: '2026-11-22T08:00:00.000Z' },
        ...Object.fromEntries(
          Object.entries(failure.extra ?? {}).map(([k, v]) => [
            k,
            { DataType: 'String', StringValue: v },
          ]),
        ),
      },
    }),
  );
  return MessageId!;
}

async function drain(url: string) {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

const target = () => ['--queue-url', queueUrl, '--dlq-url', dlqUrl];

beforeAll(async () => {
  sqs = await startSqsEmulator();
});
afterAll(async () => {
  await sqs?.stop();
});
beforeEach(async () => {
  queueCount += 1;
  ({ queueUrl, dlqUrl } = await sqs.createQueueWithDlq(`mail-${queueCount}`));
});

describe('o365-mail dlq', () => {
  it('lists each dead letter with its FailureClass and FailureReason, without colour when piped', async () => {
    await deadLetter(notification, { cls: 'invalid', reason: 'subject is required' });
    await deadLetter(unknownRecipient, {
      cls: 'rejected',
      reason:
        '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    });
    await deadLetter('not json at all');

    const run = await runCli(['dlq', 'list', ...target()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /invalid\s+2026-11-22T08:00:00.000Z\s+ann@example.com\s+Your order shipped\s+subject is required/,
    );
    expect(run.stdout).toContain('550 5.1.10 RESOLVER.ADR.RecipientNotFound');
    expect(run.stdout).toContain('retries exhausted');
    expect(run.stdout).toContain('3 dead letter(s)');
    expect(run.stdout).not.toContain('\x1b[');
    // Listing does not consume: the messages are still there, visible again.
    expect(await drain(dlqUrl)).toHaveLength(3);
  });

  it('prints one JSON document with --json', async () => {
    await deadLetter(unknownRecipient, { cls: 'rejected', reason: '550 5.1.10 unknown' });

    const run = await runCli(['dlq', 'list', '--json', ...target()]);

    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.count).toBe(1);
    expect(doc.deadLetters[0]).toMatchObject({
      mailId: 'order-42',
      failureClass: 'rejected',
      failureReason: '550 5.1.10 unknown',
      failureAt: '2026-11-22T08:00:00.000Z',
      to: ['nobody@example.invalid'],
    });
  });

  it('lists a dead letter for some recipients with those recipients, and its mail id from MailId', async () => {
    const body = { to: ['ann@example.com', 'gone@example.com'], subject: 'Split', text: 'Hi' };
    await deadLetter(body, {
      cls: 'rejected',
      reason: 'gone@example.com: 550 5.1.10 unknown',
      extra: { FailureRecipients: 'gone@example.com', MailId: 'sqs-first-id' },
    });

    const run = await runCli(['dlq', 'list', '--json', ...target()]);

    expect(JSON.parse(run.stdout).deadLetters[0]).toMatchObject({
      mailId: 'sqs-first-id',
      to: ['gone@example.com'],
    });
  });

  it('shows one dead letter by SQS message id or by mail id, and exits 1 for an unknown id', async () => {
    const messageId = await deadLetter(unknownRecipient, {
      cls: 'rejected',
      reason: '550 5.1.10 unknown',
    });

    const bySqsId = await runCli(['dlq', 'show', messageId, ...target()]);
    const byMailId = await runCli(['dlq', 'show', 'order-42', '--json', ...target()]);
    const missing = await runCli(['dlq', 'show', 'no-such-id', ...target()]);

    expect(bySqsId.code).toBe(0);
    expect(bySqsId.stdout).toMatch(/FailureClass\s+rejected/);
    expect(bySqsId.stdout).toMatch(/FailureReason\s+550 5.1.10 unknown/);
    // Explained with the failure table's words for 5.1.10.
    expect(bySqsId.stdout).toMatch(/What it means\s+The recipient address does not exist\./);
    expect(bySqsId.stdout).toMatch(/Fix\s+Correct or remove the recipient/);
    expect(bySqsId.stdout).toContain('"subject": "Invoice 42"');
    expect(JSON.parse(byMailId.stdout)).toMatchObject({
      found: true,
      messageId,
      advice: { tableRow: 'recipient-not-found' },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No dead letter with id no-such-id');
  });

  it('redrives every dead letter back to the mail queue, body and attributes intact', async () => {
    await deadLetter(notification, { cls: 'rejected', reason: 'x' });
    await deadLetter(unknownRecipient, { cls: 'rejected', reason: 'y' });

    const dry = await runCli(['dlq', 'redrive', '--dry-run', ...target()]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Would move 2 message(s)');
    expect(await drain(queueUrl)).toHaveLength(0);

    const run = await runCli(['dlq', 'redrive', ...target()]);

    expect(run.code).toBe(0);
    // fauxqs has no message-move tasks: the fallback ran.
    expect(run.stdout).toContain('Moved 2 message(s) back');
    expect(run.stdout).toContain('receive-send-delete');
    const moved = await drain(queueUrl);
    expect(moved.map((m) => JSON.parse(m.Body!).subject).sort()).toEqual([
      'Invoice 42',
      'Your order shipped',
    ]);
    expect(moved[0]!.MessageAttributes?.FailureClass?.StringValue).toBe('rejected');
    expect(await drain(dlqUrl)).toHaveLength(0);
  });

  it('redrives dead letters that together pass 1 MiB in batches SQS accepts (3 x 400 KB)', async () => {
    const big = (n: number) => ({
      ...notification,
      subject: `Big ${n}`,
      text: 'x'.repeat(400_000),
    });
    for (const n of [1, 2, 3]) {
      await deadLetter(big(n), { cls: 'rejected', reason: `550 5.1.10 big ${n}` });
    }

    const run = await runCli(['dlq', 'redrive', ...target()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Moved 3 message(s) back');
    const moved = await drain(queueUrl);
    expect(moved.map((m) => JSON.parse(m.Body!).subject).sort()).toEqual([
      'Big 1',
      'Big 2',
      'Big 3',
    ]);
    expect(moved.map((m) => m.MessageAttributes?.FailureReason?.StringValue).sort()).toEqual([
      '550 5.1.10 big 1',
      '550 5.1.10 big 2',
      '550 5.1.10 big 3',
    ]);
    expect(await drain(dlqUrl)).toHaveLength(0);
  });

  it('finds the DLQ from the mail queue redrive policy when only --queue-url is given', async () => {
    await deadLetter(notification, { cls: 'invalid', reason: 'bad' });

    const run = await runCli(['dlq', 'list', '--json', '--queue-url', queueUrl]);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dlqUrl, count: 1 });
  });

  it('purges only with --yes when there is no terminal to ask', async () => {
    await deadLetter(notification, { cls: 'invalid', reason: 'bad' });

    const refused = await runCli(['dlq', 'purge', ...target()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('without --yes');
    expect(await drain(dlqUrl)).toHaveLength(1);

    const purged = await runCli(['dlq', 'purge', '--yes', ...target()]);
    expect(purged.code).toBe(0);
    expect(purged.stdout).toContain('Purged');
  });

  it('exits 2 with a hint when there is no queue to talk to', async () => {
    const run = await runCli(['dlq', 'list']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('No queue to talk to');
  });
});
