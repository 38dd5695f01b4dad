import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter } from '../../lib/guards/rate-limit/in-memory-rate-limiter.ts';

const MAILBOX = 'sender@contoso.example';

/**
 * Whatever the arrival pattern (bursts, gaps, throttling penalties, recipients per message), the
 * schedule never lets more than the budget through in any window. Same decision function as the
 * DynamoDB limiter (`mailbox-schedule.ts`), run in memory so thousands of patterns take a second.
 */
describe('per-mailbox schedule (property)', () => {
  it('never sends more than perMinute in any 60 s, nor more recipients than the day allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gapMs: fc.integer({ min: 0, max: 20_000 }),
            recipients: fc.integer({ min: 1, max: 40 }),
            penaltySeconds: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90 })),
          }),
          { minLength: 1, maxLength: 120 },
        ),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 3 }),
        async (arrivals, perMinute, maxWaitSeconds) => {
          let clock = 0;
          const limiter = new InMemoryRateLimiter({
            perMinute,
            recipientsPerDay: 200,
            maxWaitSeconds,
            now: () => clock,
            sleep: async (ms) => {
              clock += ms;
            },
          });
          const sends: { at: number; recipients: number }[] = [];
          for (const a of arrivals) {
            clock += a.gapMs;
            if (a.penaltySeconds > 0 && a.gapMs % 7 === 0) {
              await limiter.penalize(MAILBOX, a.penaltySeconds);
            }
            const result = await limiter.acquire(MAILBOX, a.recipients);
            if (result.ok) sends.push({ at: clock, recipients: a.recipients });
            else expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(1);
          }
          for (const s of sends) {
            const inMinute = sends.filter((t) => t.at >= s.at && t.at < s.at + 60_000);
            expect(inMinute.length).toBeLessThanOrEqual(perMinute);
            const inDay = sends.filter((t) => t.at >= s.at && t.at < s.at + 86_400_000);
            expect(inDay.reduce((n, t) => n + t.recipients, 0)).toBeLessThanOrEqual(200);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a message told to wait gets its slot when it comes back on time', async () => {
    let clock = 0;
    const limiter = new InMemoryRateLimiter({ perMinute: 3, maxWaitSeconds: 0, now: () => clock });
    for (let i = 0; i < 3; i++) expect((await limiter.acquire(MAILBOX, 1)).ok).toBe(true);
    const waits = [];
    for (let i = 0; i < 3; i++) {
      const r = await limiter.acquire(MAILBOX, 1);
      waits.push(r.ok ? 0 : r.retryAfterSeconds);
    }
    // The three come back one slot apart, and each finds its slot free.
    for (const wait of waits) {
      clock = wait * 1000;
      expect(await limiter.acquire(MAILBOX, 1)).toEqual({ ok: true });
    }
  });
});
