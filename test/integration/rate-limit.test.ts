import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoDbRateLimiter,
  type DynamoDbRateLimiterOptions,
} from '../../lib/guards/rate-limit/dynamodb-rate-limiter.ts';
import { rateLimiterFromEnv } from '../../lib/guards/rate-limit/rate-limiter-from-env.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';

const MAILBOX = 'sender@contoso.example';
const HOUR_S = 3600;

let dynamo: DynamoDbEmulator;
let table: string;
let tableNo = 0;
let clock: number;
const sleeps: number[] = [];

beforeAll(async () => {
  dynamo = await startDynamoDbEmulator();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.createTable(`rate-${++tableNo}`);
  clock = Date.UTC(2026, 10, 22, 9, 0, 0);
  sleeps.length = 0;
});

/** One limiter = one Lambda instance; all of them share the table and the injected clock. */
function limiter(options: Partial<DynamoDbRateLimiterOptions> = {}) {
  return new DynamoDbRateLimiter({
    client: dynamo.client,
    tableName: table,
    now: () => clock,
    maxWaitSeconds: 0,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += Math.ceil(ms);
    },
    ...options,
  });
}

async function acquireMany(l: DynamoDbRateLimiter, n: number, recipients = 1) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await l.acquire(MAILBOX, recipients));
  return results;
}

describe('DynamoDbRateLimiter against dynalite', () => {
  it('lets 30 messages a minute through and tells the 31st how long to wait', async () => {
    const l = limiter();
    const first = await acquireMany(l, 30);
    expect(first.every((r) => r.ok)).toBe(true);

    clock += 20_000;
    const thirtyFirst = await l.acquire(MAILBOX, 1);
    // The first slot frees 60 s (+2 s margin) after the first send, i.e. 42 s from now.
    expect(thirtyFirst).toEqual({ ok: false, retryAfterSeconds: 42 });

    clock += 42_000;
    expect(await l.acquire(MAILBOX, 1)).toEqual({ ok: true });
  });

  it('never lets more than 30 go in any window, even across a minute boundary', async () => {
    const l = limiter();
    const sendTimes: number[] = [];
    // One attempt every 500 ms for 3 minutes: far more than the budget.
    for (let t = 0; t < 360; t++) {
      if ((await l.acquire(MAILBOX, 1)).ok) sendTimes.push(clock);
      clock += 500;
    }
    const maxInAnyMinute = Math.max(
      ...sendTimes.map((start) => sendTimes.filter((s) => s >= start && s < start + 60_000).length),
    );
    expect(maxInAnyMinute).toBe(30);
    // ...and still uses the budget: 3 minutes of 62 s windows hold at least 2 full windows.
    expect(sendTimes.length).toBeGreaterThanOrEqual(75);
  });

  it('spreads waiting messages one slot apart instead of releasing them all at once', async () => {
    const l = limiter();
    await acquireMany(l, 30);
    const waits = await acquireMany(l, 5);
    const after = waits.map((r) => (r.ok ? 0 : r.retryAfterSeconds));
    expect(after[0]).toBe(62);
    for (let i = 1; i < after.length; i++) {
      expect(after[i]! - after[i - 1]!).toBeGreaterThanOrEqual(2);
      expect(after[i]! - after[i - 1]!).toBeLessThanOrEqual(3);
    }
  });

  it('holds back a mailbox that spent its recipients for the day until they roll out of 24 h', async () => {
    const l = limiter({ recipientsPerDay: 100 });
    for (let i = 0; i < 4; i++) {
      expect(await l.acquire(MAILBOX, 25)).toEqual({ ok: true });
      clock += HOUR_S * 1000;
    }
    const denied = await l.acquire(MAILBOX, 5);
    expect(denied.ok).toBe(false);
    // The first hour's 25 recipients leave the rolling day 24 h after the end of that hour.
    expect(denied.ok ? 0 : denied.retryAfterSeconds).toBe(21 * HOUR_S);
    clock += 21 * HOUR_S * 1000;
    expect(await l.acquire(MAILBOX, 5)).toEqual({ ok: true });
  });

  it('after a throttling reply holds back every instance for the penalty', async () => {
    const a = limiter();
    const b = limiter();
    expect(await a.acquire(MAILBOX, 1)).toEqual({ ok: true });
    await a.penalize(MAILBOX, 60);
    expect(await b.acquire(MAILBOX, 1)).toEqual({ ok: false, retryAfterSeconds: 60 });
    // A shorter penalty from another instance does not shorten it.
    await b.penalize(MAILBOX, 10);
    clock += 30_000;
    const stillBlocked = await a.acquire(MAILBOX, 1);
    expect(stillBlocked.ok).toBe(false);
    clock += 40_000;
    expect(await b.acquire(MAILBOX, 1)).toEqual({ ok: true });
  });

  it('shares one budget between four instances sending batches at the same time', async () => {
    const instances = [limiter(), limiter(), limiter(), limiter()];
    // Each "Lambda instance" works through a batch of 10, one message after another.
    const results = await Promise.all(instances.map((l) => acquireMany(l, 10)));
    expect(results.flat().filter((r) => r.ok)).toHaveLength(30);
    const waits = results.flat().flatMap((r) => (r.ok ? [] : [r.retryAfterSeconds]));
    expect(new Set(waits).size).toBe(10);
  });

  it('keeps mailboxes apart and treats addresses case-insensitively', async () => {
    const l = limiter({ perMinute: 2 });
    expect((await acquireMany(l, 2)).every((r) => r.ok)).toBe(true);
    expect((await l.acquire(MAILBOX.toUpperCase(), 1)).ok).toBe(false);
    expect(await l.acquire('other@contoso.example', 1)).toEqual({ ok: true });
  });

  it('waits in-process for a slot closer than maxWaitSeconds instead of returning the message', async () => {
    const l = limiter({ perMinute: 2, maxWaitSeconds: 5 });
    await acquireMany(l, 2);
    clock += 58_000;
    expect(await l.acquire(MAILBOX, 1)).toEqual({ ok: true });
    expect(sleeps).toEqual([4_000]);
  });
});

describe('rateLimiterFromEnv', () => {
  it('is off when MAIL_RATE_TABLE is not set', () => {
    expect(rateLimiterFromEnv({ MAIL_RATE_PER_MINUTE: '10' })).toEqual({ ok: true });
  });

  it('reports bad numbers in plain words', () => {
    expect(rateLimiterFromEnv({ MAIL_RATE_TABLE: 'rate', MAIL_RECIPIENTS_PER_DAY: '-5' })).toEqual({
      ok: false,
      problems: ['MAIL_RECIPIENTS_PER_DAY must be a whole number ≥ 1, got "-5"'],
    });
  });

  it('applies MAIL_RATE_PER_MINUTE to the shared table', async () => {
    const env = {
      MAIL_RATE_TABLE: table,
      MAIL_RATE_PER_MINUTE: '3',
      MAIL_RATE_MAX_WAIT_SECONDS: '0',
    };
    const result = rateLimiterFromEnv(env, dynamo.client);
    if (!result.ok || !result.rateLimiter) throw new Error('expected a limiter');
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await result.rateLimiter.acquire(MAILBOX, 1)).ok);
    expect(results).toEqual([true, true, true, false]);
  });

  it('shrinks throttling penalties with MAIL_RETRY_TIME_SCALE (soak runs minutes in seconds)', async () => {
    const env = {
      MAIL_RATE_TABLE: table,
      MAIL_RETRY_TIME_SCALE: '0.05',
      MAIL_RATE_MAX_WAIT_SECONDS: '0',
    };
    const result = rateLimiterFromEnv(env, dynamo.client);
    if (!result.ok || !result.rateLimiter) throw new Error('expected a limiter');
    await result.rateLimiter.penalize(MAILBOX, 60);
    // The limiter from env runs on the real clock: 60 s × 0.05 = 3 s.
    const denied = await result.rateLimiter.acquire(MAILBOX, 1);
    expect(denied).toEqual({ ok: false, retryAfterSeconds: 3 });
  });
});
