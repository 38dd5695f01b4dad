/**
 * How SQS measures a message against its 1 MiB (one message, and the sum of a batch request's
 * entries): the body's UTF-8 bytes plus, for each message attribute, its name, its data type and
 * its value. Kept apart so the producer, the dead-letter moves and `dlq redrive` count alike.
 */

/** A message attribute as the SDK carries it. */
export interface SqsAttributeLike {
  DataType?: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

/** Bytes SQS counts for `attributes`. */
export function sqsAttributesBytes(attributes: Record<string, SqsAttributeLike> = {}): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue);
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/** Bytes SQS counts for a message with `body` and `attributes`. */
export function sqsMessageBytes(
  body: string,
  attributes?: Record<string, SqsAttributeLike>,
): number {
  return Buffer.byteLength(body) + sqsAttributesBytes(attributes);
}
