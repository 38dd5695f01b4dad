/**
 * The 1 MiB edge through the real handler: a body of exactly the contract's maximum is sent, and
 * when the server refuses it, it reaches the DLQ with all its failure attributes after one attempt
 * (SQS counts attributes towards 1 MiB; the contract leaves room for them).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/message/mail-message-limits.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

const NOT_FOUND =
  '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup';

function bodyOf(bytes: number, to: string): string {
  const shape = mail('at the edge', { id: `edge-${to}`, to: [to], text: '' });
  const padding = bytes - Buffer.byteLength(JSON.stringify(shape));
  const body = JSON.stringify({ ...shape, text: 'x'.repeat(padding) });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

describe('sender end to end: the size edge', () => {
  let world: SenderWorld;
  beforeAll(async () => {
    world = await startSenderWorld();
  });
  afterAll(() => world.stop());
  beforeEach(() => world.smtp.reset());

  it('sends a body of exactly the maximum, and dead-letters a refused one at once with every attribute', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    world.smtp.rejectRecipient('nobody@example.com', NOT_FOUND);
    await world.enqueue(queueUrl, [
      bodyOf(MAX_BODY_BYTES, 'ann@example.com'),
      bodyOf(MAX_BODY_BYTES, 'nobody@example.com'),
    ]);
    await world.eventSource(handler, queueUrl).runUntilIdle({ includeInvisible: true });

    expect(world.smtp.messages.map((m) => m.envelope.to)).toEqual([['ann@example.com']]);
    const [dead, ...more] = await world.receiveAll(dlqUrl);
    expect(more).toEqual([]);
    expect(Buffer.byteLength(dead!.Body!)).toBe(MAX_BODY_BYTES);
    expect(dead!.MessageAttributes).toMatchObject({
      FailureClass: { StringValue: 'rejected' },
      FailureReason: { StringValue: expect.stringContaining('5.1.10') },
      FailureAt: { StringValue: expect.any(String) },
    });
  });
});
