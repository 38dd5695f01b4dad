/**
 * Short logs through the real handler: a message with 500 bad addresses is one problem repeated,
 * so its log lines and its FailureReason name a few and count the rest; no line exceeds 8 KB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOG_LINE_BYTES } from '../../lib/delivery/short-log-formatter.ts';
import { mail, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
beforeAll(async () => {
  world = await startSenderWorld();
});
afterAll(() => world.stop());

describe('sender end to end: short logs', () => {
  it('500 bad addresses make a short WARN line and a short FailureReason', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { POWERTOOLS_LOG_LEVEL: 'DEBUG' }),
    );
    const bad = Array.from({ length: 500 }, (_, i) => `not-an-address-${i}-${'x'.repeat(120)}`);
    await world.enqueue(queueUrl, [mail('many bad', { id: 'bad-500', to: bad })]);
    const logs = world.captureLogs();
    try {
      await world.eventSource(handler, queueUrl).runUntilIdle();
    } finally {
      logs.stop();
    }
    const line = logs.lines.find((l) => l.message === 'invalid message moved to the DLQ');
    expect(line).toMatchObject({
      messageId: 'bad-500',
      reason: expect.stringMatching(/and 497 more problems$/),
    });
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const logged of logs.lines) {
      expect(Buffer.byteLength(JSON.stringify(logged))).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    }
    expect(Buffer.byteLength(JSON.stringify(line))).toBeLessThan(2_000);

    const [dead] = await world.receiveAll(dlqUrl);
    const reason = dead!.MessageAttributes!.FailureReason!.StringValue!;
    expect(reason).toMatch(
      /^invalid message: to\[0\] is not a valid email address: "not-an-address-0-x+…"/,
    );
    expect(reason).toMatch(/; and 497 more problems$/);
    expect(reason.length).toBeLessThan(1_024);
  });
});
