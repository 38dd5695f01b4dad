/**
 * Measures the shared DynamoDB rate limiter: DynamoDB calls and added latency per message, and how
 * close several concurrent consumers get to the per-minute budget without exceeding it; and the
 * ledger's added latency (claim + complete) on its own.
 *
 *   node scripts/measure-rate-limit.ts [messages=200] [consumers=4] [speedup=20]
 *
 * Consumers race for real against dynalite; time runs `speedup` times faster than the wall clock
 * (the limiter's clock and every wait are scaled), so 7 virtual minutes take ~20 s. A consumer
 * takes up to 10 visible messages, asks the limiter for each one, and a message told to wait goes
 * back "to the queue" for the processor's delay (`backoffSeconds(receives, retryAfter)`, or exactly
 * `retryAfter` with EXACT=1), like SQS visibility. After a slot, the consumer spends SEND_MS
 * (wall clock, default 100) on the SMTP exchange.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { backoffSeconds } from '../lib/delivery/backoff.ts';
import { DynamoDbDeliveryLedger } from '../lib/guards/ledger/dynamodb-delivery-ledger.ts';
import { DynamoDbRateLimiter } from '../lib/guards/rate-limit/dynamodb-rate-limiter.ts';
import { startDynamoDbEmulator } from '../test/emulators/dynamodb-emulator.ts';

const [messages = 200, consumers = 4, speedup = 20] = process.argv.slice(2).map(Number);
const exact = process.env.EXACT === '1';
const MAILBOX = 'sender@contoso.example';

const dynamo = await startDynamoDbEmulator();
const table = await dynamo.createTable('rate-measure');

// The ledger's share of a message: one claim (PutItem) and one complete (UpdateItem).
const ledger = new DynamoDbDeliveryLedger({
  client: dynamo.client,
  tableName: await dynamo.createTable('ledger-measure'),
});
const ledgerMs: number[] = [];
for (let i = 0; i < 200; i++) {
  const started = performance.now();
  await ledger.claim(`measure-${i}`);
  await ledger.complete(`measure-${i}`);
  ledgerMs.push(performance.now() - started);
}
ledgerMs.sort((a, b) => a - b);
const t0 = Date.now();
const now = () => t0 + (Date.now() - t0) * speedup;
let sleptMs = 0;
const sleep = async (virtualMs: number) => {
  const started = performance.now();
  await delay(virtualMs / speedup);
  sleptMs += performance.now() - started;
};
/** Wall-clock ms a consumer spends on the SMTP exchange after a slot (SEND_MS, default 100). */
const sendMs = Number(process.env.SEND_MS ?? 100);
const limiter = new DynamoDbRateLimiter({ client: dynamo.client, tableName: table, now, sleep });

interface Queued {
  id: number;
  visibleAt: number;
  receives: number;
}
const queue: Queued[] = Array.from({ length: messages }, (_, id) => ({
  id,
  visibleAt: 0,
  receives: 0,
}));
const sentAt: number[] = [];
const latencies: number[] = [];
let retries = 0;

async function consumer(): Promise<void> {
  while (sentAt.length < messages) {
    const batch = queue.filter((m) => m.visibleAt <= now()).slice(0, 10);
    if (batch.length === 0) {
      await delay(20);
      continue;
    }
    for (const m of batch) {
      m.receives++;
      m.visibleAt = Number.POSITIVE_INFINITY;
    }
    for (const m of batch) {
      const started = performance.now();
      const slept = sleptMs;
      const result = await limiter.acquire(MAILBOX, 1);
      // Added latency = time in DynamoDB calls (and lost races), not the deliberate slot wait.
      latencies.push(performance.now() - started - (sleptMs - slept));
      if (result.ok) {
        sentAt.push(now());
        await delay(sendMs);
        queue.splice(queue.indexOf(m), 1);
      } else {
        retries++;
        const wait = exact
          ? result.retryAfterSeconds
          : backoffSeconds(m.receives, result.retryAfterSeconds);
        m.visibleAt = now() + wait * 1000;
      }
    }
  }
}

await Promise.all(Array.from({ length: consumers }, consumer));
const receives = sentAt.length + retries;
sentAt.sort((a, b) => a - b);
const maxInMinute = Math.max(
  ...sentAt.map((s, i) => sentAt.slice(i).filter((t) => t < s + 60_000).length),
);
const minutes = (sentAt.at(-1)! - sentAt[0]!) / 60_000;
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.floor((sorted.length - 1) * p)]!.toFixed(1);
console.table({
  messages,
  consumers,
  'retry delay': exact ? 'retryAfter' : 'backoffSeconds(receives, retryAfter)',
  'achieved msgs/min (first to last send)': ((sentAt.length - 1) / minutes).toFixed(1),
  'max sent in any 60 s': maxInMinute,
  'receives per message': (receives / messages).toFixed(2),
  'DynamoDB calls per message sent': (limiter.calls / messages).toFixed(2),
  'DynamoDB calls per acquire': (limiter.calls / receives).toFixed(2),
  'simulated SMTP exchange, wall ms': sendMs,
  'acquire latency p50 ms (dynalite)': pct(0.5),
  'acquire latency p95 ms (dynalite)': pct(0.95),
  'ledger claim + complete p50 / p95 ms (dynalite, alone)': `${ledgerMs[99]!.toFixed(1)} / ${ledgerMs[189]!.toFixed(1)}`,
});
await dynamo.stop();
