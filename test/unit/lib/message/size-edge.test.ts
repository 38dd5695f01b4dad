/**
 * The one byte count of the contract: a body of exactly MAX_BODY_BYTES is accepted by the consumer,
 * by `parseMailMessage` and by the producer, one byte more is refused by all three, and the JSON
 * Schema states the same number.
 */
import { describe, expect, it } from 'vitest';
import { buildMailMessageJsonSchema } from '../../../../lib/message/mail-message-json-schema.ts';
import {
  FAILURE_ATTRIBUTES_ROOM_BYTES,
  MAX_BODY_BYTES,
  SQS_MAX_MESSAGE_BYTES,
} from '../../../../lib/message/mail-message-limits.ts';
import {
  parseMailMessageJson,
  safeParseMailMessage,
} from '../../../../lib/message/parse-mail-message.ts';
import { prepareMailMessage } from '../../../../lib/producer/mail-queue.ts';

/** A message as a producer writes it (string addresses, no defaults) whose JSON is `bytes` long. */
function messageOf(bytes: number, extra: Record<string, unknown> = { id: 'edge-1' }) {
  const shape = { ...extra, to: ['Ann <ann@example.com>'], subject: 'Edge', text: '' };
  const padding = bytes - Buffer.byteLength(JSON.stringify(shape));
  const message = { ...shape, text: 'x'.repeat(padding) };
  expect(Buffer.byteLength(JSON.stringify(message))).toBe(bytes);
  return message;
}

const tooBig = expect.stringMatching(
  new RegExp(`too big.*${MAX_BODY_BYTES + 1} bytes, the limit is ${MAX_BODY_BYTES}.*S3`),
);

describe(`the contract's size limit: ${MAX_BODY_BYTES} bytes`, () => {
  it('is 1 MiB less the room a dead letter needs for its attributes', () => {
    expect(MAX_BODY_BYTES).toBe(SQS_MAX_MESSAGE_BYTES - FAILURE_ATTRIBUTES_ROOM_BYTES);
  });

  it('the consumer accepts a raw body of exactly the limit and refuses one byte more', () => {
    expect(parseMailMessageJson(JSON.stringify(messageOf(MAX_BODY_BYTES))).ok).toBe(true);
    expect(parseMailMessageJson(JSON.stringify(messageOf(MAX_BODY_BYTES + 1)))).toEqual({
      ok: false,
      issues: [{ path: '', message: tooBig }],
    });
  });

  it('measures the raw body, not its normalised form (defaults and address objects add bytes)', () => {
    // Spaces count: the limit is on the body as it is on the queue.
    const spaced = JSON.stringify(messageOf(MAX_BODY_BYTES - 10)).replace(
      '{',
      `{${' '.repeat(10)}`,
    );
    expect(Buffer.byteLength(spaced)).toBe(MAX_BODY_BYTES);
    expect(parseMailMessageJson(spaced).ok).toBe(true);
  });

  it('parseMailMessage measures an object as JSON.stringify writes it', () => {
    expect(safeParseMailMessage(messageOf(MAX_BODY_BYTES)).ok).toBe(true);
    expect(safeParseMailMessage(messageOf(MAX_BODY_BYTES + 1))).toEqual({
      ok: false,
      issues: [{ path: '', message: tooBig }],
    });
  });

  it('the producer puts exactly the validated bytes on the queue, and refuses one more', () => {
    const message = messageOf(MAX_BODY_BYTES);
    expect(prepareMailMessage(message)).toEqual({
      ok: true,
      id: 'edge-1',
      body: JSON.stringify(message),
      bytes: MAX_BODY_BYTES,
    });
    const over = prepareMailMessage(messageOf(MAX_BODY_BYTES + 1));
    expect(over.ok).toBe(false);
    expect(!over.ok && over.error.issues[0]!.message).toEqual(tooBig);
  });

  it('counts the id the producer adds to a message without one, and says how to avoid it', () => {
    const fits = prepareMailMessage(messageOf(MAX_BODY_BYTES - 100, {}));
    expect(fits.ok && JSON.parse(fits.body).id).toBe(fits.ok && fits.id);
    expect(fits.ok && fits.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);

    const full = prepareMailMessage(messageOf(MAX_BODY_BYTES, {}));
    expect(full.ok).toBe(false);
    expect(!full.ok && full.error.issues[0]!.message).toMatch(/with the id .* give it an "id"/);
  });

  it('an explicit id: undefined is as good as none', () => {
    const prepared = prepareMailMessage({ ...messageOf(1000, {}), id: undefined });
    expect(prepared.ok && JSON.parse(prepared.body).id).toEqual(expect.any(String));
  });

  it('the JSON Schema states the same number, for producers in other languages', () => {
    const schema = buildMailMessageJsonSchema();
    expect(schema['x-maxBodyBytes']).toBe(MAX_BODY_BYTES);
    expect(schema.description).toContain(`at most ${MAX_BODY_BYTES} bytes`);
  });
});
