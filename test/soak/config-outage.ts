/**
 * The soak's configuration outage: SMTP AUTH is switched off for the sending mailbox (and its open
 * sessions dropped) for longer than five configuration back-offs, on a queue of its own with a
 * redrive policy of 5, while the real handler runs in its sandboxes and the breaker's probe runs
 * on a schedule. Without the circuit breaker every message would be dead-lettered by SQS; with
 * it, consuming pauses at the first refusal, the messages wait without spending receives, and the
 * probe resumes consuming once AUTH works again.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_BACKOFF } from '../../lib/delivery/backoff.ts';
import { stableMessageId } from '../../lib/delivery/compose-mail.ts';
import { CONFIG_RETRY_FLOOR_SECONDS } from '../../lib/delivery/process-record.ts';
import { DynamoDbBreakerStore } from '../../lib/guards/breaker/dynamodb-breaker-store.ts';
import { createSqsEventSource } from '../../lib/local/sqs-event-source.ts';
import { createLambdaSandboxes } from './lambda-sandboxes.ts';
import { type MailWorld, RATE_TABLE, WORLD_SENDER } from './mail-world.ts';
import { enqueue } from './soak-messages.ts';

export interface ConfigOutageOptions {
  messages: number;
  consumers: number;
  functionTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  /** `MAIL_RETRY_TIME_SCALE` of this episode: five back-offs at the configuration floor fit in seconds. */
  retryTimeScale: number;
  /** How often the breaker's probe runs (the EventBridge schedule, time-compressed). */
  probeIntervalMs: number;
  log?: (line: string) => void;
}

export interface ConfigOutageFigures {
  messages: number;
  consumers: number;
  /** The redrive policy of the episode's queue. */
  maxReceiveCount: number;
  /** How long AUTH stayed off: more than five back-offs at the configuration floor. */
  outageMs: number;
  fiveBackoffsMs: number;
  /** From switching AUTH off until consuming paused; undefined if it never did. */
  pausedAfterMs: number | undefined;
  /** Messages the redrive policy moved to the DLQ. Must be 0. */
  deadLettered: number;
  /** Messages the server accepted after the fix (each counted once). */
  sent: number;
  /** Receives of the message received most often, beyond the one that sent it. */
  mostExtraReceives: number;
  /** From the fix until every message was sent. */
  sentAfterFixMs: number | undefined;
}

const MAX_RECEIVE_COUNT = 5;

/** The longest five configuration back-offs can take (floor + full jitter ceiling each). */
export function fiveConfigBackoffsMs(scale: number): number {
  let seconds = 0;
  for (let attempt = 1; attempt <= 5; attempt++) {
    seconds +=
      CONFIG_RETRY_FLOOR_SECONDS +
      Math.min(DEFAULT_BACKOFF.capSeconds, DEFAULT_BACKOFF.baseSeconds * 2 ** (attempt - 1));
  }
  return Math.ceil(seconds * scale * 1000);
}

export async function runConfigOutage(
  world: MailWorld,
  o: ConfigOutageOptions,
): Promise<ConfigOutageFigures> {
  const { queueUrl, dlqUrl } = await world.sqs.createQueueWithDlq('mail-outage', {
    maxReceiveCount: MAX_RECEIVE_COUNT,
    attributes: { VisibilityTimeout: String(o.visibilityTimeoutSeconds) },
  });
  const env = {
    ...world.env,
    MAIL_QUEUE_URL: queueUrl,
    MAIL_DLQ_URL: dlqUrl,
    MAIL_RETRY_TIME_SCALE: String(o.retryTimeScale),
  };
  const breaker = new DynamoDbBreakerStore({
    client: world.dynamo.client,
    tableName: RATE_TABLE,
    queueName: 'mail-outage',
  });
  const sandboxes = createLambdaSandboxes({ env, functionTimeoutMs: o.functionTimeoutMs });
  // EventBridge invokes the same function: a sandbox of its own here, so probes never wait for a batch.
  const probes = createLambdaSandboxes({ env, functionTimeoutMs: o.functionTimeoutMs });
  const receives = new Map<string, number>();
  const source = createSqsEventSource({
    sqs: world.sqs.client,
    queueUrl,
    handler: sandboxes.handler,
    waitTimeSeconds: 1,
    functionTimeoutMs: o.functionTimeoutMs + 15_000,
    concurrency: o.consumers,
    isPaused: async () => (await breaker.read()).paused,
    pausedPollMs: 200,
    onBatch: (report) => {
      for (const r of report.records)
        receives.set(r.messageId, (receives.get(r.messageId) ?? 0) + 1);
    },
  });
  const keys = Array.from(
    { length: o.messages },
    (_, i) => `outage-${String(i + 1).padStart(4, '0')}`,
  );
  const ours = new Set(keys.map((key) => stableMessageId(key, WORLD_SENDER)));
  const sentCount = () => world.smtp.messages.filter((m) => ours.has(m.messageId ?? '')).length;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      await probes.probe().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, o.probeIntervalMs));
    }
  })();
  try {
    await Promise.all([sandboxes.warm(o.consumers), probes.warm(1)]);
    // The soak's own sandboxes are gone, but their leases last until they lapse: start with the
    // mailbox's connections free, as a quiet sender would find them.
    await untilLeasesLapse(world);
    const fiveBackoffsMs = fiveConfigBackoffsMs(o.retryTimeScale);
    const outageMs = Math.ceil(fiveBackoffsMs * 1.25);
    world.smtp.setMailbox(WORLD_SENDER, { smtpAuthDisabled: true });
    world.smtp.dropConnections();
    const broken = Date.now();
    await enqueue(
      world.sqs.client,
      queueUrl,
      keys.map((key) => ({
        key,
        kind: 'good' as const,
        body: JSON.stringify({ id: key, to: ['reader@fabrikam.example'], subject: key, text: key }),
        recipients: ['reader@fabrikam.example'],
      })),
    );
    o.log?.(`configuration outage: SMTP AUTH off for ${outageMs} ms, ${o.messages} messages`);
    source.start();
    let pausedAfterMs: number | undefined;
    while (Date.now() - broken < outageMs) {
      if (pausedAfterMs === undefined && (await breaker.read()).paused) {
        pausedAfterMs = Date.now() - broken;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    world.smtp.setMailbox(WORLD_SENDER, {});
    const fixed = Date.now();
    o.log?.('configuration outage: SMTP AUTH back on');
    let sentAfterFixMs: number | undefined;
    const deadline = fixed + 60_000;
    while (Date.now() < deadline && sentAfterFixMs === undefined) {
      if (sentCount() >= o.messages) sentAfterFixMs = Date.now() - fixed;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await source.stop();
    const counts = [...receives.values()];
    return {
      messages: o.messages,
      consumers: o.consumers,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      outageMs,
      fiveBackoffsMs,
      pausedAfterMs,
      deadLettered: await countMessages(world.sqs.client, dlqUrl),
      sent: sentCount(),
      mostExtraReceives: Math.max(0, ...counts) - 1,
      sentAfterFixMs,
    };
  } finally {
    probing = false;
    await prober;
    await source.stop();
    await Promise.all([sandboxes.close(), probes.close()]);
  }
}

/** Waits until no connection lease of the sender is live (the main phase's killed sandboxes). */
async function untilLeasesLapse(world: MailWorld): Promise<void> {
  for (;;) {
    const { Item } = await world.dynamo.client.send(
      new GetItemCommand({
        TableName: RATE_TABLE,
        Key: { id: { S: `lease#${WORLD_SENDER}` } },
        ConsistentRead: true,
      }),
    );
    const now = Date.now();
    const live = Object.values(Item?.holders?.M ?? {}).filter((v) => Number(v.N) > now);
    if (live.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function countMessages(sqs: SQSClient, url: string): Promise<number> {
  let count = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
    );
    if (Messages.length === 0) return count;
    count += Messages.length;
  }
}
