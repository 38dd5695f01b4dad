/**
 * The fault-injection soak: messages through fauxqs → the real handler in Lambda-like sandboxes
 * (several at once, via the local event source) → the Office 365 emulator and token endpoint, with
 * the DynamoDB ledger and rate limiter on dynalite, while faults are injected. Used by
 * `test/soak/soak.test.ts` (CI size) and `scripts/soak.ts` (`npm run soak -- 1000`).
 */
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { stableMessageId } from '../../lib/delivery/compose-mail.ts';
import { createSqsEventSource } from '../../lib/local/sqs-event-source.ts';
import { createLambdaSandboxes } from './lambda-sandboxes.ts';
import { LEDGER_TABLE, RATE_TABLE, startMailWorld, WORLD_SENDER } from './mail-world.ts';
import { createFaultInjector } from './soak-faults.ts';
import {
  type DeadLetterClass,
  type DeadLetterCopy,
  type ExtraFault,
  type LedgerWrite,
  type SoakDelivery,
  type SoakFigures,
  soakFigures,
} from './soak-figures.ts';
import { enqueue, SOAK_UNKNOWN_RECIPIENT, seededRandom, soakMessages } from './soak-messages.ts';
import type { SoakTransport } from './soak-server.ts';

export interface SoakOptions {
  messages: number;
  /** The door the sender drives. @default 'smtp' */
  transport?: SoakTransport;
  /** Concurrent invocations (the mapping's maximum concurrency). @default 4 */
  consumers?: number;
  /** @default 8000 */
  functionTimeoutMs?: number;
  /** `SMTP_SOCKET_TIMEOUT_MS`. @default 1500 */
  socketTimeoutMs?: number;
  /**
   * Queue visibility timeout; killed batches come back after it. Longer than a cold start plus
   * the function timeout, or a message would be handed to a second consumer while the first runs.
   * @default 12
   */
  visibilityTimeoutSeconds?: number;
  /**
   * Redrive policy. Every rate-limit wait, killed batch and out-of-time stop costs a receive, and
   * the soak piles far more of those on each message than production sees. @default 15
   */
  maxReceiveCount?: number;
  /** Share of accepted messages after which one random fault is injected. @default 0.15 */
  faultRate?: number;
  /** Share of accepted messages whose sandbox dies right after the server's 250. @default 0.01 */
  killAfter250Rate?: number;
  /** Share of invocations whose sandbox dies before the mapping acknowledges. @default 0.03 */
  dieBeforeAckRate?: number;
  /** Sender budget: messages per window. @default 60 per 5 s (+1 s margin) */
  rate?: { perWindow: number; windowSeconds: number; marginSeconds: number };
  /** `MAIL_RETRY_TIME_SCALE`. @default 0.02 (a 60 s throttling pause becomes 1.2 s) */
  retryTimeScale?: number;
  seed?: number;
  /** Give up draining after this. @default 600000 */
  drainTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** The sandboxes' stdout/stderr (silent Powertools logger unless `SOAK_LOG_LEVEL` is set). */
  sandboxOutput?: (chunk: string) => void;
}

export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const o = {
    consumers: 4,
    functionTimeoutMs: 8_000,
    socketTimeoutMs: 1_500,
    visibilityTimeoutSeconds: 12,
    maxReceiveCount: 15,
    faultRate: 0.15,
    killAfter250Rate: 0.01,
    dieBeforeAckRate: 0.03,
    rate: { perWindow: 60, windowSeconds: 5, marginSeconds: 1 },
    retryTimeScale: 0.02,
    seed: 6,
    drainTimeoutMs: 600_000,
    ...options,
  };
  const random = seededRandom(o.seed);
  const ledgerWrites = new Map<string, LedgerWrite[]>();
  const dynamoCalls = { ledger: 0, rate: 0 };
  const world = await startMailWorld({
    ...o,
    onDynamoRequest(operation, input) {
      if (input.TableName === RATE_TABLE) dynamoCalls.rate++;
      if (input.TableName !== LEDGER_TABLE) return;
      dynamoCalls.ledger++;
      const key = (input.Key as { id?: { S?: string } } | undefined)?.id?.S;
      if (operation !== 'UpdateItem' || !key) return;
      // complete sets status sent; settle keeps a verdict (the split's accepted recipients).
      const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
      const verdict = values?.[':text']?.S;
      const write: LedgerWrite = { key, at: Date.now(), ...(verdict !== undefined && { verdict }) };
      push(ledgerWrites, key.split('/')[0]!, write);
    },
  });
  const { sqs, server, token, queueUrl, dlqUrl } = world;
  server.rejectRecipient(SOAK_UNKNOWN_RECIPIENT);
  const stops: (() => Promise<void> | void)[] = [() => world.stop()];
  try {
    const extra: Record<ExtraFault, number> = { 'killed-after-250': 0, 'died-before-ack': 0 };
    let invocations = 0;
    const sandboxes = createLambdaSandboxes({
      functionTimeoutMs: o.functionTimeoutMs,
      env: world.env,
      onOutput: o.sandboxOutput,
      dieBeforeAck: () => {
        // The fifth invocation always dies, so even a short run has one; then at random.
        invocations++;
        if (invocations !== 5 && random() >= o.dieBeforeAckRate) return false;
        extra['died-before-ack']++;
        return true;
      },
    });
    stops.unshift(() => sandboxes.close());
    let recordsInvoked = 0;
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl,
      handler: sandboxes.handler,
      waitTimeSeconds: 1,
      // The sandboxes enforce init and function timeouts themselves (and kill); a backstop only.
      functionTimeoutMs: o.functionTimeoutMs + 15_000,
      concurrency: o.consumers,
      onBatch: (report) => {
        recordsInvoked += report.records.length;
      },
    });
    stops.unshift(() => source.stop());

    const messages = soakMessages(o.messages, random);
    const keyOfMessageId = new Map(
      messages.map((m) => [stableMessageId(m.key, WORLD_SENDER), m.key]),
    );
    const deliveries = new Map<string, SoakDelivery[]>();
    // Faults follow the traffic: injected after accepted messages, so a run that stalls is not
    // buried under faults nobody consumes.
    const faults = createFaultInjector(server.faults, token, sandboxes, o, random);
    let watching = true;
    const watcher = (async () => {
      for (let seen = 0; watching; ) {
        try {
          await server.waitForAccepted(seen + 1, 500);
        } catch {
          continue;
        }
        // Runs in the microtask right after the server accepted: a sandbox killed here has not
        // had the 250 processed by anything in this thread (SQS, DynamoDB), so it cannot record it.
        for (; seen < server.accepted.length; seen++) {
          const received = server.accepted[seen]!;
          const key =
            keyOfMessageId.get(received.messageId ?? '') ?? `unknown ${received.messageId}`;
          push(deliveries, key, {
            at: received.receivedAt.getTime(),
            recipients: server.recipientsOf(seen),
          });
          // Every fourth accepted message until each kind ran once, so a short run (and a door
          // that accepts fewer messages) still has all of them; then at the fault rate.
          if ((faults.firstRoundPending && seen % 4 === 0) || random() < o.faultRate) {
            faults.injectOne();
          }
          // The 25th accepted message always kills its sandbox, so even a short run has one.
          if (seen === 24 || random() < o.killAfter250Rate) {
            const victim = sandboxes
              .running()
              .find((r) => r.bodies.some((b) => b.includes(`"${key}"`)));
            if (victim) {
              victim.kill();
              extra['killed-after-250']++;
            }
          }
        }
      }
    })();
    stops.unshift(async () => {
      watching = false;
      await watcher;
    });

    await sandboxes.warm(o.consumers);
    await enqueue(sqs.client, queueUrl, messages);
    o.log?.(`enqueued ${messages.length} messages; draining with ${o.consumers} consumers`);
    const started = Date.now();
    source.start();
    const drained = await waitUntilDrained(sqs.client, queueUrl, started + o.drainTimeoutMs, o.log);
    const drainMs = Date.now() - started;
    await source.stop();

    return soakFigures({
      messages,
      deliveries,
      ledgerWrites,
      deadLetters: await readDeadLetters(sqs.client, dlqUrl, messages),
      faults: { ...faults.counts, ...extra },
      sandboxes: { ...sandboxes.stats },
      serverRateLimited: server.throttled,
      recordsInvoked,
      dynamoCalls,
      drainMs,
      drained,
    });
  } finally {
    for (const stop of stops) await stop();
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Until nothing is visible, in flight or delayed, twice in a row (or the deadline). */
async function waitUntilDrained(
  sqs: SQSClient,
  queueUrl: string,
  deadline: number,
  log?: (line: string) => void,
): Promise<boolean> {
  let quiet = 0;
  let lastLog = 0;
  while (Date.now() < deadline) {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    const count = (name: string) => Number((Attributes as Record<string, string>)[name] ?? 0);
    const left =
      count('ApproximateNumberOfMessages') +
      count('ApproximateNumberOfMessagesNotVisible') +
      count('ApproximateNumberOfMessagesDelayed');
    if (Date.now() - lastLog > 2_000) {
      log?.(`${left} messages left on the queue`);
      lastLog = Date.now();
    }
    quiet = left === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

async function readDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  messages: { key: string; body: string }[],
): Promise<Map<string, DeadLetterCopy[]>> {
  const keyOfBody = new Map(messages.map((m) => [m.body, m.key]));
  const result = new Map<string, DeadLetterCopy[]>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return result;
    for (const m of Messages) {
      const failureClass = m.MessageAttributes?.FailureClass?.StringValue;
      const cls: DeadLetterClass =
        failureClass === 'invalid' || failureClass === 'rejected'
          ? failureClass
          : 'retries-exhausted';
      const named = m.MessageAttributes?.FailureRecipients?.StringValue;
      push(result, keyOfBody.get(m.Body ?? '') ?? `unknown ${m.MessageId}`, {
        cls,
        ...(named !== undefined && {
          recipients: named.split(',').map((r) => r.trim().toLowerCase()),
        }),
      });
    }
  }
}
