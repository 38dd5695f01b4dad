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
import { DynamoDbBreakerStore } from '../../lib/guards/breaker/dynamodb-breaker-store.ts';
import { createSqsEventSource } from '../../lib/local/sqs-event-source.ts';
import { runConfigOutage } from './config-outage.ts';
import { createLambdaSandboxes } from './lambda-sandboxes.ts';
import {
  LEDGER_TABLE,
  type MailWorld,
  RATE_TABLE,
  startMailWorld,
  WORLD_SENDER,
} from './mail-world.ts';
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
  /**
   * Concurrent invocations (the mapping's maximum concurrency): twice the 3 connections the
   * server allows the mailbox, which the connection lease must keep them under. @default 6
   */
  consumers?: number;
  /**
   * The server enforces 3 connections per mailbox, and the sender runs its connection lease and
   * circuit breaker (state in the rate-limit table; the event source honours the breaker, its
   * probe runs every `probeIntervalMs`). @default true
   */
  connectionCap?: boolean;
  /** How often the breaker's probe runs (its EventBridge schedule, time-compressed). @default 2000 */
  probeIntervalMs?: number;
  /**
   * After the drain, a configuration outage on a queue of its own with a redrive policy of 5
   * ({@link runConfigOutage}); SMTP only. `false` skips it. @default { messages: 60, retryTimeScale: 0.005 }
   */
  configOutage?: false | { messages: number; retryTimeScale: number };
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
    consumers: 6,
    connectionCap: true,
    probeIntervalMs: 2_000,
    configOutage: { messages: 60, retryTimeScale: 0.005 } as SoakOptions['configOutage'],
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
    const breaker = o.connectionCap ? mainBreaker(world) : undefined;
    let recordsInvoked = 0;
    const source = createSqsEventSource({
      sqs: sqs.client,
      queueUrl,
      handler: sandboxes.handler,
      waitTimeSeconds: 1,
      // The sandboxes enforce init and function timeouts themselves (and kill); a backstop only.
      functionTimeoutMs: o.functionTimeoutMs + 15_000,
      concurrency: o.consumers,
      // The circuit breaker's switch, as the event source mapping honours it.
      ...(breaker && { isPaused: breaker.isPaused, pausedPollMs: 200 }),
      onBatch: (report) => {
        recordsInvoked += report.records.length;
      },
    });
    stops.unshift(() => source.stop());
    if (breaker)
      stops.unshift(breaker.startProbing(world.env, o.functionTimeoutMs, o.probeIntervalMs));

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
    const stopWatching = async () => {
      watching = false;
      await watcher;
    };
    stops.unshift(stopWatching);

    await sandboxes.warm(o.consumers);
    await enqueue(sqs.client, queueUrl, messages);
    o.log?.(`enqueued ${messages.length} messages; draining with ${o.consumers} consumers`);
    const started = Date.now();
    source.start();
    const drained = await waitUntilDrained(sqs.client, queueUrl, started + o.drainTimeoutMs, o.log);
    const drainMs = Date.now() - started;
    await source.stop();
    await sandboxes.close();
    // The episode's messages are its own: no faults after them, not counted with the main run's.
    await stopWatching();
    // Nor before them: a fault injected near the end of the drain that nothing consumed (a token
    // endpoint 503, which MSAL then holds for its Retry-After; a scripted reply) would land on the
    // episode's first sends and measure that fault instead of the configuration outage.
    token.reset();
    world.smtp.faults.clear();
    const outage =
      o.configOutage && o.transport !== 'graph'
        ? await runConfigOutage(world, {
            ...o.configOutage,
            // As many sandboxes as the mailbox has connections (the construct's default setup,
            // maxConcurrency 2 under maxConnections 3): the episode measures the breaker; the main
            // run measures the connection cap with twice as many.
            consumers: Math.min(o.consumers, 3),
            functionTimeoutMs: o.functionTimeoutMs,
            visibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
            probeIntervalMs: o.probeIntervalMs,
            log: o.log,
          })
        : undefined;

    return soakFigures({
      concurrencyRefused: world.smtp.stats.concurrencyLimited,
      pauses: breaker?.pauses() ?? 0,
      configOutage: outage,
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

/**
 * The main queue's circuit breaker: the switch the event source reads, and its probe on a
 * schedule in a sandbox of its own (EventBridge invokes the same function). Counts the pauses the
 * probe found, so a run where the breaker stepped in says so.
 */
function mainBreaker(world: MailWorld) {
  const store = new DynamoDbBreakerStore({
    client: world.dynamo.client,
    tableName: RATE_TABLE,
    queueName: 'mail',
  });
  let pauses = 0;
  // Six pollers ask before every receive; one read a second serves them all (a mapping's switch
  // takes effect within seconds in AWS too).
  let read: { paused: Promise<boolean>; at: number } | undefined;
  return {
    isPaused: () => {
      if (!read || Date.now() - read.at > 1_000) {
        read = { paused: store.read().then((s) => s.paused), at: Date.now() };
      }
      return read.paused;
    },
    pauses: () => pauses,
    startProbing(env: Record<string, string>, functionTimeoutMs: number, everyMs: number) {
      const probes = createLambdaSandboxes({ env, functionTimeoutMs });
      let probing = true;
      const prober = (async () => {
        while (probing) {
          const report = await probes.probe().catch(() => undefined);
          if (report?.breaker === 'resumed') pauses++;
          await new Promise((resolve) => setTimeout(resolve, everyMs));
        }
      })();
      return async () => {
        probing = false;
        await prober;
        await probes.close();
      };
    },
  };
}
