/**
 * Runs a Lambda SQS handler locally the way the event source mapping (with
 * `ReportBatchItemFailures`) runs it in AWS: long-poll up to 10 messages, invoke the handler with an
 * `SQSEvent` and a `Context` that runs down from the function timeout, delete the records that are
 * not in `batchItemFailures`, leave the failures to reappear. A handler that throws, times out or
 * answers with an unknown item identifier fails the whole batch (nothing deleted), as in AWS.
 *
 * `sqs-consumer` (bbc) is close, but it deletes per message and knows nothing of
 * `batchItemFailures` or the Lambda `Context`; this is the mapping's contract, not a consumer's.
 * Used by `npm start`, the soak test, the bench and the end-to-end tests.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLambdaContext, queueArnFromUrl, toLambdaRecord } from './lambda-sqs-event.ts';

export type SqsLambdaHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined>;

/** What became of one invocation. */
export interface BatchReport {
  records: SQSRecord[];
  response?: SQSBatchResponse;
  /** The handler threw or timed out: the whole batch stays on the queue. */
  error?: unknown;
  /** SQS message ids deleted (acknowledged). */
  deleted: string[];
  /** SQS message ids left on the queue. */
  failed: string[];
}

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsLambdaHandler;
  /**
   * Records per invocation, 1–10.
   * @default 10
   */
  batchSize?: number;
  /**
   * Long-poll wait of each receive, 0–20 s.
   * @default 20
   */
  waitTimeSeconds?: number;
  /** Visibility timeout for received messages, in seconds. @default the queue's own */
  visibilityTimeout?: number;
  /**
   * The function timeout the `Context` counts down from; an invocation that runs longer fails.
   * @default 60000 (the `MailSender` construct's default)
   */
  functionTimeoutMs?: number;
  /**
   * Parallel pollers (concurrent invocations).
   * @default 1
   */
  concurrency?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** @default 'o365-mail-sender-local' */
  functionName?: string;
  /**
   * The circuit breaker's switch, as the event source mapping honours it in AWS (the sender turns
   * the mapping off): while it answers `true`, nothing is received, so waiting messages spend no
   * receive count. Asked before every receive. @default never paused
   */
  isPaused?: () => Promise<boolean>;
  /** How often a paused source asks again (ms). @default 500 */
  pausedPollMs?: number;
  /** Called after every invocation. */
  onBatch?: (report: BatchReport) => void;
  /** A receive or delete failed while polling (the poller backs off and goes on). */
  onError?: (error: unknown) => void;
}

export interface SqsEventSource {
  /** Starts the pollers; they run until {@link stop}. */
  start(): void;
  /** Stops polling; resolves when in-flight invocations have finished and been acknowledged. */
  stop(): Promise<void>;
  /** One receive and, when it got messages, one invocation. Undefined when the queue gave nothing. */
  drainOnce(): Promise<BatchReport | undefined>;
  /**
   * Invokes the handler until the queue is idle: no message visible and nothing in flight; with
   * `includeInvisible`, also until no message is invisible or delayed (retries waiting out their
   * backoff; long polls wait for them). Throws after `timeoutMs`.
   */
  runUntilIdle(options?: {
    includeInvisible?: boolean;
    timeoutMs?: number;
  }): Promise<BatchReport[]>;
}

export function createSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const batchSize = Math.min(10, Math.max(1, options.batchSize ?? 10));
  const region = options.region ?? 'us-east-1';
  const arn = queueArnFromUrl(options.queueUrl, region);
  const functionName = options.functionName ?? 'o365-mail-sender-local';
  const timeoutMs = options.functionTimeoutMs ?? 60_000;
  let running = false;
  const pollers: Promise<void>[] = [];
  let abort = new AbortController();

  async function receive(waitTimeSeconds: number, signal?: AbortSignal) {
    const result = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitTimeSeconds,
        VisibilityTimeout: options.visibilityTimeout,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: signal },
    );
    return result.Messages ?? [];
  }

  async function invoke(records: SQSRecord[]): Promise<BatchReport> {
    const context = createLambdaContext(functionName, timeoutMs, region);
    let report: BatchReport;
    try {
      const response = await withTimeout(options.handler({ Records: records }, context), timeoutMs);
      const failures = failedIds(records, response ?? undefined);
      report = { records, response: response ?? undefined, deleted: [], failed: [...failures] };
      report.deleted = await acknowledge(records.filter((r) => !failures.has(r.messageId)));
    } catch (error) {
      report = { records, error, deleted: [], failed: records.map((r) => r.messageId) };
    }
    options.onBatch?.(report);
    return report;
  }

  async function acknowledge(records: SQSRecord[]): Promise<string[]> {
    if (records.length === 0) return [];
    const result = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    const ok = new Set((result.Successful ?? []).map((s) => s.Id));
    return records.filter((_, i) => ok.has(String(i))).map((r) => r.messageId);
  }

  async function drainOnce(waitTimeSeconds = options.waitTimeSeconds ?? 20, signal?: AbortSignal) {
    if (await isPaused()) {
      await sleep(options.pausedPollMs ?? 500, signal);
      return undefined;
    }
    const messages = await receive(waitTimeSeconds, signal);
    if (messages.length === 0) return undefined;
    return invoke(messages.map((m) => toLambdaRecord(m, arn, region)));
  }

  /** A switch that cannot be read leaves the source running, as a sender does with its breaker. */
  async function isPaused(): Promise<boolean> {
    if (!options.isPaused) return false;
    try {
      return await options.isPaused();
    } catch (err) {
      options.onError?.(err);
      return false;
    }
  }

  async function poll(): Promise<void> {
    while (running) {
      try {
        await drainOnce(undefined, abort.signal);
      } catch (err) {
        if (!running) return;
        options.onError?.(err);
        // A failed receive or delete (emulator restarting, network): back off a little, as the
        // mapping does, instead of spinning.
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async function queueDepth(): Promise<{ visible: number; hidden: number }> {
    const { Attributes = {} } = await options.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['All'] }),
    );
    const a: Record<string, string | undefined> = Attributes;
    const count = (name: string) => Number(a[name] ?? '0');
    return {
      visible: count('ApproximateNumberOfMessages'),
      hidden:
        count('ApproximateNumberOfMessagesNotVisible') +
        count('ApproximateNumberOfMessagesDelayed'),
    };
  }

  return {
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      for (let i = 0; i < (options.concurrency ?? 1); i++) pollers.push(poll());
    },
    async stop() {
      running = false;
      abort.abort();
      await Promise.allSettled(pollers.splice(0));
    },
    drainOnce: () => drainOnce(),
    async runUntilIdle(idle = {}) {
      const reports: BatchReport[] = [];
      const timeoutMs = idle.timeoutMs ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      const worker = async () => {
        // Short polls while work is visible; an empty answer ends this worker's round.
        for (let report = await drainOnce(0); report; report = await drainOnce(0)) {
          reports.push(report);
          if (Date.now() > deadline) return;
        }
      };
      while (Date.now() <= deadline) {
        const before = reports.length;
        await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
        const { visible, hidden } = await queueDepth();
        const includeInvisible = idle.includeInvisible ?? false;
        if (visible === 0 && (!includeInvisible || hidden === 0)) return reports;
        if (reports.length === before) {
          // Nothing receivable: retries waiting out their backoff, or FIFO messages behind an
          // in-flight one of their group (counted as visible). Wait for them only when asked;
          // a long poll returns as soon as one is receivable.
          if (!includeInvisible) return reports;
          const waitSeconds = Math.min(20, Math.floor((deadline - Date.now()) / 1000));
          const report = await drainOnce(Math.max(0, waitSeconds));
          if (report) reports.push(report);
        }
      }
      throw new Error(`queue ${options.queueUrl} not idle after ${timeoutMs} ms`);
    },
  };
}

/** Lambda fails the whole batch when the response names a record that is not in it. */
function failedIds(records: SQSRecord[], response: SQSBatchResponse | undefined): Set<string> {
  const ids = new Set(records.map((r) => r.messageId));
  const failures = new Set<string>();
  for (const item of response?.batchItemFailures ?? []) {
    if (!item?.itemIdentifier || !ids.has(item.itemIdentifier)) {
      throw new Error(`batchItemFailures names an unknown record: ${JSON.stringify(item)}`);
    }
    failures.add(item.itemIdentifier);
  }
  return failures;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits `ms`, or less when `signal` aborts (the source is stopping). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
