/**
 * Recipients that fare differently, end to end through the real handler: a temporary reply for some
 * recipients is retried for them alone (same Message-ID, same To/Cc), a permanent one becomes a
 * dead letter naming them, and its redrive reaches them alone. Nobody gets the mail twice and
 * nobody is dropped.
 */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redriveDeadLetters } from '../../lib/cli/redrive-dead-letters.ts';
import type { ReceivedMessage } from '../emulators/office365-smtp.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

const BUSY = '450 4.2.1 Mailbox temporarily unavailable, try again later';
const NOT_FOUND =
  '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup';

/** Who got what: every recipient of every accepted message, with the Message-ID it came with. */
function deliveries(messages: readonly ReceivedMessage[]): string[] {
  return messages.flatMap((m) => m.envelope.to.map((to) => `${to} ${m.messageId}`)).sort();
}

function toHeader(message: ReceivedMessage): string | undefined {
  return /^To: (.*)$/m.exec(message.raw.toString('utf8'))?.[1];
}

describe('sender end to end: per-recipient outcomes', () => {
  let world: SenderWorld;
  beforeAll(async () => {
    world = await startSenderWorld();
  });
  afterAll(() => world.stop());
  beforeEach(() => world.smtp.reset());
  afterEach(() => world.restoreEnv());

  async function start() {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { MAIL_RETRY_TIME_SCALE: '0.001' }),
    );
    const source = world.eventSource(handler, queueUrl, { visibilityTimeout: 5 });
    return { queueUrl, dlqUrl, source };
  }

  it('retries a recipient that got 450 4.2.1 alone, with the same Message-ID and headers', async () => {
    const { queueUrl, source } = await start();
    world.smtp.rejectRecipient('bob@example.com', BUSY);
    await world.enqueue(queueUrl, [
      mail('two recipients', { to: ['ann@example.com', 'bob@example.com'] }),
    ]);
    await source.drainOnce();
    expect(world.smtp.messages.map((m) => m.envelope.to)).toEqual([['ann@example.com']]);

    world.smtp.faults.clear();
    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 20_000 });
    const [first, second] = world.smtp.messages;
    expect(world.smtp.messages).toHaveLength(2);
    expect(second!.envelope.to).toEqual(['bob@example.com']);
    expect(second!.messageId).toBe(first!.messageId);
    expect(toHeader(second!)).toBe('ann@example.com, bob@example.com');
    expect(deliveries(world.smtp.messages)).toEqual([
      `ann@example.com ${first!.messageId}`,
      `bob@example.com ${first!.messageId}`,
    ]);
  });

  it('dead-letters only the recipient refused for good, and its redrive reaches it alone', async () => {
    const { queueUrl, dlqUrl, source } = await start();
    world.smtp.rejectRecipient('gone@example.com', NOT_FOUND);
    const body = mail('one unknown', { to: ['ann@example.com'], cc: ['gone@example.com'] });
    await world.enqueue(queueUrl, [body]);
    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 20_000 });
    expect(world.smtp.messages.map((m) => m.envelope.to)).toEqual([['ann@example.com']]);

    const [dead, ...more] = await world.receiveAll(dlqUrl);
    expect(more).toEqual([]);
    expect(JSON.parse(dead!.Body!)).toEqual(body);
    expect(dead!.MessageAttributes).toMatchObject({
      FailureClass: { StringValue: 'rejected' },
      FailureRecipients: { StringValue: 'gone@example.com' },
      FailureReason: { StringValue: expect.stringContaining('5.1.10') },
    });

    // The address is fixed on the server side; the dead letter goes back and reaches gone@ alone.
    world.smtp.faults.clear();
    await world.sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: dlqUrl,
        ReceiptHandle: dead!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    const moved = await redriveDeadLetters({ client: world.sqs.client, dlqUrl, queueUrl });
    expect(moved).toMatchObject({ moved: 1, failed: 0 });
    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 20_000 });
    const [first, second] = world.smtp.messages;
    expect(world.smtp.messages).toHaveLength(2);
    expect(second!.envelope.to).toEqual(['gone@example.com']);
    expect(second!.messageId).toBe(first!.messageId);
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });
});

describe('sender end to end: a server that takes 100 recipients per message', () => {
  let world: SenderWorld;
  beforeAll(async () => {
    world = await startSenderWorld({ recipientsPerMessage: 100 });
  });
  afterAll(() => world.stop());

  it('sends a 300-recipient message in three parts, each recipient once, same Message-ID', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { MAIL_RETRY_TIME_SCALE: '0.001' }),
    );
    const source = world.eventSource(handler, queueUrl, { visibilityTimeout: 5 });
    const to = Array.from({ length: 150 }, (_, i) => `to${i}@example.com`);
    const bcc = Array.from({ length: 150 }, (_, i) => `bcc${i}@example.com`);
    await world.enqueue(queueUrl, [mail('three hundred', { to, bcc })]);
    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 30_000 });

    const messages = world.smtp.messages;
    expect(messages.map((m) => m.envelope.to.length)).toEqual([100, 100, 100]);
    expect(new Set(messages.map((m) => m.messageId)).size).toBe(1);
    const got = messages.flatMap((m) => m.envelope.to).sort();
    expect(got).toEqual([...to, ...bcc].sort());
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });
});
