import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryLedger } from '../../lib/guards/ledger/dynamodb-delivery-ledger.ts';
import { deliveryLedgerFromEnv } from '../../lib/guards/ledger/ledger-from-env.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';

let dynamo: DynamoDbEmulator;
let table: string;
let tableNo = 0;
let clock: number;

beforeAll(async () => {
  dynamo = await startDynamoDbEmulator();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.createTable(`ledger-${++tableNo}`);
  clock = Date.UTC(2026, 10, 22, 9, 0, 0);
});

function ledger(options: { inProgressSeconds?: number; sentTtlSeconds?: number } = {}) {
  return new DynamoDbDeliveryLedger({
    client: dynamo.client,
    tableName: table,
    now: () => clock,
    inProgressSeconds: 60,
    ...options,
  });
}

describe('DynamoDbDeliveryLedger against dynalite', () => {
  it('claims a new id, and a completed id is already-sent for every later claimant', async () => {
    const first = ledger();
    expect(await first.claim('order-1')).toBe('claimed');
    await first.complete('order-1');

    expect(await first.claim('order-1')).toBe('already-sent');
    expect(await ledger().claim('order-1')).toBe('already-sent');
  });

  it('stores the sent record with a TTL of the configured window', async () => {
    const l = ledger({ sentTtlSeconds: 3600 });
    await l.claim('order-ttl');
    await l.complete('order-ttl');
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: 'order-ttl' } } }),
    );
    expect(Item?.status?.S).toBe('sent');
    expect(Number(Item?.expiresAt?.N)).toBe(clock / 1000 + 3600);
  });

  it('reports in-progress while another attempt holds a live claim, with the time it lapses', async () => {
    const claimedAt = clock;
    expect(await ledger().claim('order-2')).toBe('claimed');
    clock += 59_000;
    expect(await ledger().claim('order-2')).toEqual({ inProgressUntil: claimedAt + 60_000 });
  });

  it('lets a later attempt reclaim once a crashed attempt’s claim has expired', async () => {
    const crashed = ledger();
    expect(await crashed.claim('order-3')).toBe('claimed');
    clock += 61_000;
    const next = ledger();
    expect(await next.claim('order-3')).toBe('claimed');
    // The crashed attempt waking up late must not drop the new owner's claim.
    await crashed.release('order-3');
    expect(await ledger().claim('order-3')).toEqual({ inProgressUntil: clock + 60_000 });
  });

  it('release after a failed send lets the next attempt send', async () => {
    const l = ledger();
    expect(await l.claim('order-4')).toBe('claimed');
    await l.release('order-4');
    expect(await ledger().claim('order-4')).toBe('claimed');
  });

  it('release never undoes a completed send', async () => {
    const l = ledger();
    await l.claim('order-5');
    await l.complete('order-5');
    await l.release('order-5');
    expect(await ledger().claim('order-5')).toBe('already-sent');
  });

  it('forgets a sent id after the TTL window, even before DynamoDB deletes the item', async () => {
    const l = ledger({ sentTtlSeconds: 600 });
    await l.claim('order-6');
    await l.complete('order-6');
    clock += 599_000;
    expect(await ledger().claim('order-6')).toBe('already-sent');
    clock += 2_000;
    expect(await ledger().claim('order-6')).toBe('claimed');
  });

  it('hands a settled verdict to every later claimant instead of a claim, until it is released', async () => {
    const first = ledger();
    expect(await first.claim('order-7')).toBe('claimed');
    await first.settle('order-7', '{"kind":"rejected","reason":"550 5.1.10"}');
    clock += 3_600_000;
    const verdict = { verdict: '{"kind":"rejected","reason":"550 5.1.10"}' };
    expect(await ledger().claim('order-7')).toEqual(verdict);
    expect(await ledger().claim('order-7')).toEqual(verdict);
    // The attempt that carried the verdict out (it holds no claim of its own) lets go of it.
    await ledger().release('order-7');
    expect(await ledger().claim('order-7')).toBe('claimed');
  });

  it('completes a settled verdict as sent, and forgets a verdict after the TTL window', async () => {
    const l = ledger({ sentTtlSeconds: 600 });
    await l.claim('order-8');
    await l.settle('order-8', '{"kind":"partial"}');
    await ledger().complete('order-8');
    expect(await ledger().claim('order-8')).toBe('already-sent');

    await l.claim('order-9');
    await l.settle('order-9', '{"kind":"rejected"}');
    clock += 601_000;
    expect(await ledger().claim('order-9')).toBe('claimed');
  });

  it('lets exactly one of many racing claims win', async () => {
    const claimants = Array.from({ length: 8 }, () => ledger());
    const results = await Promise.all(claimants.map((l) => l.claim('order-race')));
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => typeof r === 'object' && 'inProgressUntil' in r)).toHaveLength(7);
  });

  it('lets exactly one of two racing reclaims of an expired claim win', async () => {
    await ledger().claim('order-race-2');
    clock += 61_000;
    const results = await Promise.all([
      ledger().claim('order-race-2'),
      ledger().claim('order-race-2'),
    ]);
    expect(results).toContain('claimed');
    expect(results).toContainEqual({ inProgressUntil: clock + 60_000 });
  });
});

describe('deliveryLedgerFromEnv', () => {
  it('is off when MAIL_LEDGER_TABLE is not set', () => {
    expect(deliveryLedgerFromEnv({})).toEqual({ ok: true });
  });

  it('reports bad numbers in plain words', () => {
    const result = deliveryLedgerFromEnv({
      MAIL_LEDGER_TABLE: 'ledger',
      MAIL_LEDGER_TTL_SECONDS: 'a week',
      MAIL_LEDGER_IN_PROGRESS_SECONDS: '0',
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        'MAIL_LEDGER_TTL_SECONDS must be a whole number ≥ 60, got "a week"',
        'MAIL_LEDGER_IN_PROGRESS_SECONDS must be a whole number ≥ 1, got "0"',
      ],
    });
  });

  it('builds a ledger on the named table', async () => {
    const result = deliveryLedgerFromEnv({ MAIL_LEDGER_TABLE: table }, dynamo.client);
    if (!result.ok || !result.ledger) throw new Error('expected a ledger');
    expect(await result.ledger.claim('env-1')).toBe('claimed');
    await result.ledger.complete('env-1');
    expect(await ledger().claim('env-1')).toBe('already-sent');
  });
});
