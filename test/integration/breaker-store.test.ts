/** The circuit breaker's shared state on dynalite: one pauses, the others find it paused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBreakerStore } from '../../lib/guards/breaker/dynamodb-breaker-store.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';

let dynamo: DynamoDbEmulator;
let table: string;
beforeAll(async () => {
  dynamo = await startDynamoDbEmulator();
  table = await dynamo.createTable('state');
});
afterAll(() => dynamo.stop());

const store = (queueName: string) =>
  new DynamoDbBreakerStore({ client: dynamo.client, tableName: table, queueName });
const WHY = { cause: 'config', reason: 'AUTH refused', fix: 'enable SMTP AUTH' } as const;

describe('DynamoDbBreakerStore', () => {
  it('starts running, pauses once for many sandboxes, resumes once, and keeps queues apart', async () => {
    const a = store('mail');
    const b = store('mail');
    expect(await a.read()).toEqual({ paused: false });
    expect(await a.pause(WHY, 1_000)).toBe(true);
    expect(await b.pause({ ...WHY, reason: 'later' }, 2_000)).toBe(false);
    expect(await b.read()).toEqual({ paused: true, ...WHY, since: 1_000 });
    expect(await store('other').read()).toEqual({ paused: false });

    expect(await b.resume(3_000)).toBe(true);
    expect(await a.resume(4_000)).toBe(false);
    expect(await a.read()).toEqual({ paused: false, resumedAt: 3_000 });
    expect(await a.pause({ ...WHY, cause: 'outage' }, 5_000)).toBe(true);
    expect(await b.read()).toEqual({
      paused: true,
      ...WHY,
      cause: 'outage',
      since: 5_000,
      resumedAt: 3_000,
    });
  });
});
