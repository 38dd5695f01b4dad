/**
 * A whole SQS batch: one SMTP session for all of it, records in order, then the consequences —
 * permanent failures to the DLQ, retries delayed by visibility, `batchItemFailures` for the event
 * source mapping (`ReportBatchItemFailures`).
 *
 * Records are taken in order, one at a time, up to the point where the session has written the
 * message: the deadline check, parsing, the ledger claim, the rate limiter and composing decide per
 * message exactly as before. With a session that pipelines (SMTP), the batch does not wait for the
 * server's answer before preparing the next record, so messages overlap on the wire (about one
 * round trip per message, or less with CHUNKING). Each record still gets its own outcome; a
 * configuration stop or the clock stops the records not yet started, and a FIFO group's next record
 * waits for its predecessor's answer.
 *
 * Why not Powertools' `BatchProcessor`/`SqsFifoPartialProcessor`: they model a record as "handler
 * returned or threw", while a record here has five outcomes, two of which (invalid, rejected) must be
 * acknowledged only after a DLQ send, and a configuration error or the clock must stop the whole
 * batch. We keep their contract instead: the `event.Records` guard (in the handler), a failure list
 * of retryable records only, and for FIFO queues the `skipGroupOnError` behaviour of
 * `SqsFifoPartialProcessor` — once a record of a message group fails, every later record of that
 * group is failed without being processed, so the group keeps its order. Other groups go on: SQS only
 * orders within a group, and failing them too would burn their receive counts towards the redrive
 * policy's `maxReceiveCount` for nothing.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import type { MailSession } from '../types.ts';
import { backoffSeconds, receiveCountOf } from './backoff.ts';
import {
  type BatchResult,
  isBatchItemFailure,
  type ProcessedRecord,
  type RecordOutcome,
} from './batch-outcome.ts';
import type { SqsSender } from './lazy-sqs-client.ts';
import { flushMetrics, latencyMetric, messageKeys } from './observability.ts';
import {
  CONFIG_RETRY_FLOOR_SECONDS,
  peekMailId,
  processRecord,
  type RecordDeps,
  type RecordSettings,
} from './process-record.ts';
import { carryOut, finishVerdict, type MovesDeps } from './record-moves.ts';
import { logOutcome, recordMetrics } from './report-outcome.ts';
import { queueUrlFromArn, scheduleRetries } from './retry-visibility.ts';

export interface BatchSettings extends RecordSettings {
  /** `MAIL_DLQ_URL`. */
  dlqUrl: string;
  /** `MAIL_QUEUE_URL`; when absent, derived from each record's `eventSourceARN`. */
  queueUrl?: string;
  /** SQS endpoint override (`AWS_ENDPOINT_URL_SQS`), used when deriving a queue URL from an ARN. */
  sqsEndpoint?: string;
  /**
   * Stop sending when the Lambda has less than this left (ms): room for one send plus reporting
   * (see `sendSafetyMarginMs` in `sender-runtime.ts`).
   */
  safetyMarginMs: number;
  /**
   * More room before the batch's first record only (ms): its send may first wait for a free
   * connection slot (the SMTP connection lease); later records use the connection it got.
   * @default 0
   */
  sessionWaitMs?: number;
}

export interface BatchDeps
  extends Pick<
    RecordDeps,
    'classifyFailure' | 'fetchS3Object' | 'ledger' | 'rateLimiter' | 'random'
  > {
  settings: BatchSettings;
  sqs: SqsSender;
  /**
   * Opens the batch's view of the SMTP session (its connection may be kept from an earlier batch);
   * called at most once per batch, on the first send, and closed at the end of the batch.
   */
  openSession: () => Promise<MailSession> | MailSession;
  logger: Logger;
  metrics: Metrics;
  /** @default () => new Date() */
  now?: () => Date;
}

/** The part of the Lambda `Context` the batch reads. */
export interface BatchContext {
  getRemainingTimeInMillis(): number;
}

type Stop = { cause: 'config' | 'out-of-time'; reason: string };

export async function processBatch(
  records: readonly SQSRecord[],
  deps: BatchDeps,
  context: BatchContext,
): Promise<BatchResult> {
  let session: Promise<MailSession> | undefined;
  const run: BatchRun = {
    deps,
    clock: lambdaClock(context),
    started: 0,
    failedGroups: new Map(),
    lastOfGroup: new Map(),
    recordDeps: {
      ...deps,
      session: () => {
        session ??= Promise.resolve(deps.openSession());
        return session;
      },
    },
  };
  const results: Promise<ProcessedRecord>[] = [];
  let processed: ProcessedRecord[];
  try {
    for (const record of records) {
      const group = fifoGroupOf(record);
      // A FIFO group keeps its order: its next record waits for the answer to the one before.
      if (group !== undefined) await run.lastOfGroup.get(group)?.catch(() => undefined);
      let written: () => void = () => {};
      const onWire = new Promise<void>((resolve) => {
        written = resolve;
      });
      const result = nextRecord(record, run, written);
      // What the batch learns from an answer applies to every record not yet started.
      const learned = result.then((done) => learn(record, done, run));
      learned.catch(() => undefined);
      results.push(learned);
      if (group !== undefined) run.lastOfGroup.set(group, learned);
      await Promise.race([onWire, learned]);
      // Answers that are already in (a session that stopped answers at once) count before the
      // next record starts; the server's own answers take a round trip and arrive later.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    processed = oneConfigError(await Promise.all(results));
  } finally {
    await closeQuietly(session, deps.logger);
  }
  for (const result of processed) logOutcome(deps.logger, result);
  await delayRetries(records, processed, deps);
  recordMetrics(deps.metrics, processed);
  flushMetrics(deps.metrics);
  return { ...toBatchResult(processed), ...configErrorOf(processed, run) };
}

/** The transport's configuration error, for the circuit breaker (`BatchResult.configError`). */
function configErrorOf(
  processed: readonly ProcessedRecord[],
  run: BatchRun,
): Pick<BatchResult, 'configError'> {
  if (run.tooShort) return {};
  const stop = processed.find((p) => p.outcome.kind === 'config')?.outcome;
  return stop?.kind === 'config' ? { configError: { reason: stop.reason, fix: stop.fix } } : {};
}

/**
 * The batch stops at its first configuration error (in record order); records that were already
 * with the session got the same stop as their answer, and are reported as stopped by it, unsent
 * for this batch, so the error is said (and counted) once.
 */
function oneConfigError(processed: ProcessedRecord[]): ProcessedRecord[] {
  const first = processed.findIndex((p) => p.outcome.kind === 'config');
  if (first < 0) return processed;
  const reason = `batch stopped: ${(processed[first]!.outcome as { reason: string }).reason}`;
  return processed.map((p, i) =>
    i > first && p.outcome.kind === 'config'
      ? {
          ...p,
          outcome: { kind: 'retry', cause: 'config', reason, delaySeconds: p.outcome.delaySeconds },
        }
      : p,
  );
}

/** Notes a record's answer: a failed FIFO group holds back its later records, a configuration error stops the batch. */
function learn(record: SQSRecord, result: ProcessedRecord, run: BatchRun): ProcessedRecord {
  const group = fifoGroupOf(record);
  if (group !== undefined && isBatchItemFailure(result.outcome) && !run.failedGroups.has(group)) {
    run.failedGroups.set(group, delayOf(result.outcome));
  }
  if (result.outcome.kind === 'config' && !run.stop) {
    run.stop = { cause: 'config', reason: `batch stopped: ${result.outcome.reason}` };
  }
  return result;
}

/** State of one batch while its records are gone through in order. */
interface BatchRun {
  deps: BatchDeps;
  recordDeps: RecordDeps;
  clock: BatchContext;
  /** Records that got past the checks (started or skipped), for the "timeout too short" case. */
  started: number;
  /** FIFO groups with a failed record, and the delay it got (held-back records get the same). */
  failedGroups: Map<string, number>;
  /** Each FIFO group's latest record, answered or not. */
  lastOfGroup: Map<string, Promise<ProcessedRecord>>;
  /** Set once the batch must send nothing more. */
  stop?: Stop;
  /** The function timeout is too short: a configuration error no probe can see fixed. */
  tooShort?: boolean;
}

/**
 * Decides one record: skipped (batch stopped, group held back, out of time) or processed;
 * `written` is called once its message is on the wire (a session that pipelines).
 */
async function nextRecord(
  record: SQSRecord,
  run: BatchRun,
  written: () => void,
): Promise<ProcessedRecord> {
  const { deps } = run;
  if (run.stop)
    return skipped(record, run.stop.cause, run.stop.reason, stopDelay(run.stop, record, deps));
  const group = fifoGroupOf(record);
  const held = group === undefined ? undefined : run.failedGroups.get(group);
  if (held !== undefined) {
    return skipped(record, 'held-back', 'an earlier message of its FIFO group failed', held);
  }
  const margin =
    deps.settings.safetyMarginMs + (run.started === 0 ? (deps.settings.sessionWaitMs ?? 0) : 0);
  if (run.clock.getRemainingTimeInMillis() < margin) {
    if (run.started === 0) {
      // Short of time before the first record: the function timeout itself is too short, and
      // every redelivery would end the same way. Say so once instead of spinning quietly.
      run.stop = { cause: 'config', reason: 'batch stopped: the function timeout is too short' };
      run.tooShort = true;
      return timeoutTooShort(record, run.clock, deps);
    }
    run.stop = { cause: 'out-of-time', reason: 'the function is about to time out; not sent' };
    return skipped(record, run.stop.cause, run.stop.reason, 0);
  }
  run.started++;
  return runRecord(record, { ...run.recordDeps, onWritten: written }, deps);
}

/**
 * Runs one record and carries out its moves (dead letter, copy for deferred recipients); a move
 * that fails keeps the whole record on the queue, and the ledger's verdict keeps it from the server.
 */
async function runRecord(
  record: SQSRecord,
  recordDeps: RecordDeps,
  deps: BatchDeps,
): Promise<ProcessedRecord> {
  const keys = { sqsMessageId: record.messageId };
  const { mailId, outcome, tags, ledgerKey } = await processRecord(record, {
    ...recordDeps,
    onSendLatency: (ms) => latencyMetric(deps.metrics, ms),
    onWarning: (message) => deps.logger.warn(message, { ...keys, messageId: peekMailId(record) }),
  });
  const processed = (o: RecordOutcome): ProcessedRecord => ({
    sqsMessageId: record.messageId,
    mailId,
    outcome: o,
    tags,
  });
  const moved = await carryOut(record, mailId, outcome, movesDeps(deps, mailId, record));
  if (!moved.ok) {
    const delaySeconds = backoffSeconds(receiveCountOf(record.attributes ?? {}), 0, {
      random: deps.random,
    });
    const reason = `${outcome.kind}: ${'reason' in outcome ? outcome.reason : 'split by recipient'}; ${moved.error}`;
    return processed({ kind: 'retry', cause: moved.cause, reason, delaySeconds });
  }
  if (ledgerKey && deps.ledger) {
    await finishVerdict(deps.ledger, ledgerKey, outcome, (message, error) =>
      deps.logger.warn(message, { ...keys, messageId: mailId, error }),
    );
  }
  return processed(outcome);
}

function movesDeps(deps: BatchDeps, mailId: string, record: SQSRecord): MovesDeps {
  const { dlqUrl, queueUrl, sqsEndpoint } = deps.settings;
  return {
    sqs: deps.sqs,
    dlqUrl,
    queueUrl: queueUrl ?? queueUrlFromArn(record.eventSourceARN ?? '', sqsEndpoint),
    now: deps.now ?? (() => new Date()),
    onTrimmed: (trimmed, reason) =>
      deps.logger.warn(
        "moved to the DLQ without all its attributes: the body leaves no room in SQS's 1 MiB",
        { ...messageKeys(mailId, record.messageId), trimmed, reason },
      ),
  };
}

function skipped(
  record: SQSRecord,
  cause: 'config' | 'out-of-time' | 'held-back',
  reason: string,
  delaySeconds: number,
): ProcessedRecord {
  return {
    sqsMessageId: record.messageId,
    mailId: peekMailId(record),
    outcome: { kind: 'retry', cause, reason, delaySeconds },
  };
}

/** Outside Lambda (scripts, a caller passing no context) there is no deadline to respect. */
function lambdaClock(context: BatchContext | undefined): BatchContext {
  return typeof context?.getRemainingTimeInMillis === 'function'
    ? context
    : { getRemainingTimeInMillis: () => Number.POSITIVE_INFINITY };
}

function timeoutTooShort(
  record: SQSRecord,
  context: BatchContext,
  deps: BatchDeps,
): ProcessedRecord {
  const margin = deps.settings.safetyMarginMs + (deps.settings.sessionWaitMs ?? 0);
  return {
    sqsMessageId: record.messageId,
    mailId: peekMailId(record),
    outcome: {
      kind: 'config',
      reason: `the function had ${context.getRemainingTimeInMillis()} ms left at the start of the batch, less than the ${margin} ms one send may take (SMTP socket timeout + reporting)`,
      fix: `raise the function timeout well above ${Math.ceil(margin / 1000)} s, or lower SMTP_SOCKET_TIMEOUT_MS`,
      delaySeconds: stopDelay({ cause: 'config', reason: '' }, record, deps),
    },
  };
}

function stopDelay(stop: Stop, record: SQSRecord, deps: BatchDeps): number {
  // Unsent for lack of time: nothing is wrong with it, let another invocation take it at once.
  if (stop.cause === 'out-of-time') return 0;
  return backoffSeconds(receiveCountOf(record.attributes ?? {}), CONFIG_RETRY_FLOOR_SECONDS, {
    random: deps.random,
  });
}

/** Message groups order only FIFO queues; standard (fair) queues may carry a group id too. */
function fifoGroupOf(record: SQSRecord): string | undefined {
  return record.eventSourceARN?.endsWith('.fifo') ? record.attributes?.MessageGroupId : undefined;
}

function delayOf(outcome: RecordOutcome): number {
  return outcome.kind === 'retry' || outcome.kind === 'config' ? outcome.delaySeconds : 0;
}

async function closeQuietly(
  session: Promise<MailSession> | undefined,
  logger: Logger,
): Promise<void> {
  if (!session) return;
  try {
    await (await session).close();
  } catch (err) {
    logger.warn('closing the SMTP session failed', { error: String(err) });
  }
}

async function delayRetries(
  records: readonly SQSRecord[],
  processed: readonly ProcessedRecord[],
  deps: BatchDeps,
): Promise<void> {
  const byQueue = new Map<string, { receiptHandle: string; delaySeconds: number }[]>();
  records.forEach((record, i) => {
    const outcome = processed[i]!.outcome;
    if (outcome.kind !== 'retry' && outcome.kind !== 'config') return;
    const { queueUrl, sqsEndpoint } = deps.settings;
    const url = queueUrl ?? queueUrlFromArn(record.eventSourceARN ?? '', sqsEndpoint);
    if (!url) {
      deps.logger.warn('no queue URL for a retry; the queue visibility timeout applies', {
        ...messageKeys(processed[i]!.mailId, record.messageId),
      });
      return;
    }
    const changes = byQueue.get(url) ?? [];
    changes.push({ receiptHandle: record.receiptHandle, delaySeconds: outcome.delaySeconds });
    byQueue.set(url, changes);
  });
  for (const [url, changes] of byQueue) {
    const errors = await scheduleRetries(deps.sqs, url, changes);
    for (const error of errors) {
      deps.logger.warn('could not delay a retry; the queue visibility timeout applies', { error });
    }
  }
}

function toBatchResult(processed: ProcessedRecord[]): BatchResult {
  return {
    records: processed,
    batchItemFailures: processed
      .filter((p) => isBatchItemFailure(p.outcome))
      .map((p) => ({ itemIdentifier: p.sqsMessageId })),
  };
}
