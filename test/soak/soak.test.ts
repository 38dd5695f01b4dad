import { describe, expect, it } from 'vitest';
import { type SoakFigures, soakTable } from './soak-figures.ts';
import { runSoak, type SoakOptions } from './soak-run.ts';

/**
 * The CI-sized soak (`npm run soak -- 1000` runs the full one; `npm run soak -- 1000 4 graph`
 * through Graph). About a minute per door on two busy cores, most of it spent waiting out
 * visibility timeouts after the injected kills and timeouts.
 */
const CI_SIZE: Partial<SoakOptions> = {
  drainTimeoutMs: 100_000,
  // Each kill costs a visibility timeout (12 s): at CI size, one of each kind (always
  // injected) and fewer random faults keep the run near a minute.
  faultRate: 0.08,
  killAfter250Rate: 0,
  dieBeforeAckRate: 0,
};

/** Every message sent once (twice only inside the window), or dead-lettered in its class. */
function expectEveryMessageAccountedFor(figures: SoakFigures): void {
  expect(figures.drained).toBe(true);
  expect(figures.lost).toEqual([]);
  expect(figures.recipientsDropped).toEqual([]);
  expect(figures.sentTwiceOutsideWindow).toEqual([]);
  expect(figures.sentUnrecorded).toEqual([]);
  expect(figures.misrouted).toEqual([]);
  // Good mail is sent, or (rarely, after maxReceiveCount receives) dead-lettered by SQS.
  expect(figures.sent + figures.goodRetriesExhausted).toBe(figures.byKind.good);
  expect(figures.deadLettered.invalid).toBe(
    figures.byKind['invalid-json'] + figures.byKind['invalid-contract'],
  );
  // A message with one recipient refused for good among readers is dead-lettered for that one
  // (SMTP), or whole (Graph refuses it whole): one dead letter either way.
  expect(figures.deadLettered.rejected).toBe(
    figures.byKind.rejected + figures.byKind['partly-rejected'],
  );
  for (const [kind, count] of Object.entries(figures.faults)) {
    expect(count, `${kind} injected`).toBeGreaterThan(0);
  }
}

describe('fault-injection soak', () => {
  it('delivers or dead-letters every message, and sends twice only inside the documented window', async () => {
    const figures = await runSoak({
      ...CI_SIZE,
      messages: Number(process.env.SOAK_MESSAGES ?? 150),
    });
    console.table(soakTable(figures));
    expectEveryMessageAccountedFor(figures);
    // The limiter kept the server's own rate limit from ever answering.
    expect(figures.serverRateLimited).toBe(0);
    // Six sandboxes, three connections: the lease kept the server from ever counting a fourth.
    expect(figures.concurrencyRefused).toBe(0);
    // A configuration outage longer than five back-offs, redrive policy 5: nothing in the DLQ,
    // everything sent once AUTH works again, no message received more than twice beyond that.
    const outage = figures.configOutage!;
    expect(outage.outageMs).toBeGreaterThan(outage.fiveBackoffsMs);
    expect(outage.pausedAfterMs).toBeDefined();
    expect(outage.deadLettered).toBe(0);
    expect(outage.sent).toBe(outage.messages);
    expect(outage.mostExtraReceives).toBeLessThanOrEqual(2);
  }, 210_000);

  it('holds the same promises over Graph (MAIL_TRANSPORT=graph)', async () => {
    const figures = await runSoak({
      ...CI_SIZE,
      transport: 'graph',
      messages: Number(process.env.SOAK_MESSAGES ?? 150),
      // Graph drains faster than SMTP, so fewer messages are in flight when a fault is drawn:
      // a higher rate keeps every kind injected at CI size (about 16 draws for 7 kinds).
      faultRate: 0.12,
    });
    console.table(soakTable(figures));
    // Graph may throttle on its own (a request of a killed sandbox still counts against the
    // mailbox's 4): that is a retry like any other, so it is reported, not forbidden.
    expectEveryMessageAccountedFor(figures);
  }, 150_000);
});
