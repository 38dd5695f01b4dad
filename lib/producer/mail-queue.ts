/**
 * The producer library: validate mail messages and put them on the mail queue. Nothing here is
 * Lambda-specific; services import it as it is.
 */
import { randomUUID } from 'node:crypto';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SendMessageBatchResult,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { InvalidMailMessageError, InvalidSendOptionsError, QueueSendError } from '../errors.ts';
import { MAX_BODY_BYTES } from '../message/mail-message-limits.ts';
import { safeParseMailMessage, tooBig } from '../message/parse-mail-message.ts';
import { chunkForBatch } from './batch-chunks.ts';
import { toQueueSendError } from './queue-send-error.ts';

/** How to reach the queue. */
export interface MailQueueOptions {
  /** The queue URL; one ending in `.fifo` is treated as a FIFO queue. */
  queueUrl: string;
  /** @default new SQSClient({}) (region and credentials from the environment) */
  client?: SQSClient;
  /**
   * Attempts per `sendBatch` entry when SQS fails it for its own reasons (`SenderFault: false`) or
   * the whole call fails transiently. These come on top of the SDK's own retries of the call.
   * @default 3
   */
  maxAttempts?: number;
  /** First backoff between attempts; doubles each time, with full jitter, capped at 5 s. @default 100 */
  retryBaseDelayMs?: number;
}

/** Options of one `send`. */
export interface SendOptions {
  /** Delay before the message becomes visible, 0-900 s. Standard queues only. @default the queue's */
  delaySeconds?: number;
  /** Message group (required on FIFO queues: messages of one group are delivered in order). */
  groupId?: string;
  /** FIFO deduplication id. @default the message `id` */
  deduplicationId?: string;
}

/** Options of one `sendBatch`, applied to every message in it. */
export type SendBatchOptions = Omit<SendOptions, 'deduplicationId'>;

/** What became of one message of `sendBatch`, at the same position as the input. */
export type SendBatchResult =
  | {
      ok: true;
      /** The SQS message id. */
      messageId: string;
      /** The mail message `id` (the producer's, or the one assigned). */
      id: string;
    }
  | { ok: false; error: InvalidMailMessageError | QueueSendError };

type Prepared =
  | { ok: true; id: string; body: string; bytes: number }
  | { ok: false; error: InvalidMailMessageError };
type Entry = { index: number; id: string; body: string; bytes: number };

/** SQS allows 1-128 printable ASCII characters in group and deduplication ids. */
const SQS_ID_PATTERN = /^[!-~]{1,128}$/;
const MAX_DELAY_SECONDS = 900;
const MAX_BACKOFF_MS = 5_000;
/** Parallel `SendMessageBatch` calls on a standard queue; FIFO sends one call at a time for order. */
const STANDARD_CONCURRENCY = 4;

/**
 * Validates `message`, then encodes the queue body: the message as the caller wrote it (so the
 * size the contract measured is the size on the queue), with a random UUID as `id` when it has
 * none. That id makes every copy SQS or the SDK makes of the body (redelivery, a retried call)
 * recognisable downstream: the consumer's delivery ledger keys on it. A caller that sends the same
 * mail twice should give it its own stable `id`.
 */
export function prepareMailMessage(message: unknown): Prepared {
  const parsed = safeParseMailMessage(message);
  if (!parsed.ok) return { ok: false, error: new InvalidMailMessageError(parsed.issues) };
  const given = parsed.message.id;
  const id = given ?? randomUUID();
  // `id: undefined` is as good as no id: drop it rather than let it hide the one given here.
  const { id: _none, ...rest } = message as Record<string, unknown>;
  const body = JSON.stringify(given === undefined ? { id, ...rest } : message);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    const text = tooBig(bytes, 'the message is too big with the id this library gave it');
    const fix = `${text}; or give it an "id" of your own`;
    return { ok: false, error: new InvalidMailMessageError([{ path: '', message: fix }]) };
  }
  return { ok: true, id, body, bytes };
}

/** A mail queue: `send` one message or `sendBatch` many, each validated before it leaves. */
export class MailQueue {
  readonly queueUrl: string;
  readonly fifo: boolean;
  #client: SQSClient;
  #maxAttempts: number;
  #retryBaseDelayMs: number;

  constructor(options: MailQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.fifo = queuePath(options.queueUrl).endsWith('.fifo');
    this.#client = options.client ?? new SQSClient({});
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
  }

  /**
   * Validates `message` and sends it; returns the SQS message id.
   * @throws InvalidMailMessageError when the message breaks the contract (nothing is sent)
   * @throws InvalidSendOptionsError when the options cannot work with this queue
   * @throws QueueSendError when SQS does not take it (after the SDK's own retries)
   */
  async send(message: unknown, options: SendOptions = {}): Promise<string> {
    const common = this.#commonParams(options);
    const prepared = prepareMailMessage(message);
    if (!prepared.ok) throw prepared.error;
    const dedup = this.#deduplicationId(options.deduplicationId, prepared.id);
    try {
      const out = await this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: prepared.body,
          ...common,
          ...dedup,
        }),
      );
      return out.MessageId ?? '';
    } catch (error) {
      throw toQueueSendError(error);
    }
  }

  /**
   * Sends many messages in `SendMessageBatch` calls (at most 10 entries and 1 MiB each). Returns one
   * result per input, in order: an invalid message fails alone, and entries SQS fails for its own
   * reasons are retried up to `maxAttempts`.
   * @throws InvalidSendOptionsError when the options cannot work with this queue (nothing is sent)
   */
  async sendBatch(
    messages: readonly unknown[],
    options: SendBatchOptions = {},
  ): Promise<SendBatchResult[]> {
    const common = this.#commonParams(options);
    const results: SendBatchResult[] = new Array(messages.length);
    const entries: Entry[] = [];
    messages.forEach((message, index) => {
      const prepared = prepareMailMessage(message);
      if (prepared.ok) entries.push({ index, ...prepared });
      else results[index] = prepared;
    });
    const chunks = chunkForBatch(entries);
    await forEachLimited(chunks, this.fifo ? 1 : STANDARD_CONCURRENCY, (chunk) =>
      this.#sendChunk(chunk, common, results),
    );
    return results;
  }

  async #sendChunk(chunk: Entry[], common: CommonParams, results: SendBatchResult[]) {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(this.#backoffMs(attempt));
      const last = attempt >= this.#maxAttempts;
      let out: SendMessageBatchResult;
      try {
        out = await this.#client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map((entry) => this.#toBatchEntry(entry, common)),
          }),
        );
      } catch (thrown) {
        const error = toQueueSendError(thrown);
        if (error.retryable && !last) continue;
        for (const entry of pending) results[entry.index] = { ok: false, error };
        return;
      }
      pending = this.#settle(pending, out, results, last);
    }
  }

  /** Records what SQS said about each entry; returns the entries worth another attempt. */
  #settle(
    pending: Entry[],
    out: SendMessageBatchResult,
    results: SendBatchResult[],
    last: boolean,
  ) {
    const byId = new Map(pending.map((entry) => [String(entry.index), entry]));
    for (const ok of out.Successful ?? []) {
      const entry = byId.get(ok.Id ?? '');
      if (!entry) continue;
      results[entry.index] = { ok: true, messageId: ok.MessageId ?? '', id: entry.id };
      byId.delete(ok.Id ?? '');
    }
    const again: Entry[] = [];
    const fail = (entry: Entry, code: string, text: string, retryable: boolean) => {
      const error = new QueueSendError(`SQS refused message ${entry.id}: ${text}`, code, retryable);
      results[entry.index] = { ok: false, error };
    };
    for (const failed of out.Failed ?? []) {
      const entry = byId.get(failed.Id ?? '');
      if (!entry) continue;
      byId.delete(failed.Id ?? '');
      const retryable = failed.SenderFault !== true;
      const code = failed.Code ?? 'Unknown';
      if (retryable && !last) again.push(entry);
      else fail(entry, code, `${code}${failed.Message ? `: ${failed.Message}` : ''}`, retryable);
    }
    // An entry SQS said nothing about is treated like one it failed on its own side.
    for (const entry of byId.values()) {
      if (!last) again.push(entry);
      else fail(entry, 'NoResult', 'SQS did not report on this entry', true);
    }
    return again.sort((a, b) => a.index - b.index);
  }

  #toBatchEntry(entry: Entry, common: CommonParams): SendMessageBatchRequestEntry {
    return {
      Id: String(entry.index),
      MessageBody: entry.body,
      ...common,
      ...this.#deduplicationId(undefined, entry.id),
    };
  }

  #commonParams(options: SendOptions): CommonParams {
    const { delaySeconds, groupId, deduplicationId } = options;
    if (this.fifo && !groupId) {
      throw new InvalidSendOptionsError(
        'groupId',
        `${this.queueUrl} is a FIFO queue: pass { groupId } (messages of one group are delivered in order; e.g. one group per tenant or recipient)`,
      );
    }
    checkSqsId('groupId', groupId);
    checkSqsId('deduplicationId', deduplicationId);
    if (deduplicationId !== undefined && !this.fifo) {
      throw new InvalidSendOptionsError(
        'deduplicationId',
        'deduplicationId only applies to FIFO queues (.fifo); standard queues deliver at least once and the consumer deduplicates by message id',
      );
    }
    if (delaySeconds !== undefined) {
      if (this.fifo) {
        throw new InvalidSendOptionsError(
          'delaySeconds',
          'FIFO queues do not take a per-message delaySeconds; set DelaySeconds on the queue instead',
        );
      }
      if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
        throw new InvalidSendOptionsError(
          'delaySeconds',
          `delaySeconds must be a whole number from 0 to ${MAX_DELAY_SECONDS} (15 minutes)`,
        );
      }
    }
    return {
      ...(delaySeconds !== undefined && { DelaySeconds: delaySeconds }),
      ...(groupId !== undefined && { MessageGroupId: groupId }),
    };
  }

  #deduplicationId(explicit: string | undefined, id: string) {
    return this.fifo ? { MessageDeduplicationId: explicit ?? id } : {};
  }

  #backoffMs(attempt: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.#retryBaseDelayMs * 2 ** (attempt - 2));
    return Math.random() * ceiling;
  }
}

type CommonParams = { DelaySeconds?: number; MessageGroupId?: string };

function queuePath(queueUrl: string): string {
  try {
    return new URL(queueUrl).pathname;
  } catch {
    throw new InvalidSendOptionsError(
      'queueUrl',
      `queueUrl must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/mail, not ${JSON.stringify(queueUrl)}`,
    );
  }
}

function checkSqsId(option: string, value: string | undefined): void {
  if (value !== undefined && !SQS_ID_PATTERN.test(value)) {
    throw new InvalidSendOptionsError(
      option,
      `${option} must be 1-128 printable ASCII characters (letters, digits, punctuation; no spaces)`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
