import { describe, expect, it } from 'vitest';
import { soakTable } from './soak-figures.ts';
import { runSoak } from './soak-run.ts';

/**
 * The CI-sized soak (`npm run soak -- 1000` runs the full one). About a minute on two busy cores,
 * most of it spent waiting out visibility timeouts after the injected kills and timeouts.
 */
describe('fault-injection soak', () => {
  it('delivers or dead-letters every message, and sends twice only inside the documented window', async () => {
    const figures = await runSoak({
      messages: Number(process.env.SOAK_MESSAGES ?? 150),
      drainTimeoutMs: 100_000,
      // Each kill costs a visibility timeout (12 s): at CI size, one of each kind (always
      // injected) and fewer random faults keep the run near a minute.
      faultRate: 0.08,
      killAfter250Rate: 0,
      dieBeforeAckRate: 0,
    });
    console.table(soakTable(figures));

    expect(figures.drained).toBe(true);
    expect(figures.lost).toEqual([]);
    expect(figures.sentTwiceOutsideWindow).toEqual([]);
    expect(figures.sentUnrecorded).toEqual([]);
    expect(figures.misrouted).toEqual([]);
    // Good mail is sent, or (rarely, after maxReceiveCount receives) dead-lettered by SQS.
    expect(figures.sent + figures.goodRetriesExhausted).toBe(figures.byKind.good);
    expect(figures.deadLettered.invalid).toBe(
      figures.byKind['invalid-json'] + figures.byKind['invalid-contract'],
    );
    expect(figures.deadLettered.rejected).toBe(figures.byKind.rejected);
    // The limiter kept the server's own rate limit from ever answering.
    expect(figures.serverRateLimited).toBe(0);
    for (const [kind, count] of Object.entries(figures.faults)) {
      expect(count, `${kind} injected`).toBeGreaterThan(0);
    }
  }, 150_000);
});
