/**
 * Packing queue bodies into `SendMessageBatch` calls: SQS takes at most 10 entries and 1 MiB of
 * bodies per call. Greedy and in order, so FIFO groups keep their order across calls.
 */
import { SQS_MAX_MESSAGE_BYTES } from '../message/mail-message-limits.ts';

/** At most this many entries per `SendMessageBatch` call (SQS limit). */
export const MAX_BATCH_ENTRIES = 10;
/** At most this many bytes of bodies and attributes per `SendMessageBatch` call (SQS limit, 1 MiB). */
export const MAX_BATCH_BYTES = SQS_MAX_MESSAGE_BYTES;

/** Splits `items` into runs of at most `maxEntries` whose `bytes` sum to at most `maxBytes`. */
export function chunkForBatch<T extends { bytes: number }>(
  items: readonly T[],
  maxEntries = MAX_BATCH_ENTRIES,
  maxBytes = MAX_BATCH_BYTES,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxEntries || size + item.bytes > maxBytes)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
