/**
 * Running out of time: the real handler in a Lambda-like sandbox that the runtime kills at the
 * function timeout, fed by the local event source from fauxqs, sending to the Office 365 emulator,
 * with the delivery ledger on dynalite. The batch that timed out is not acknowledged, so all of it
 * comes back; the ledger keeps the part that was already sent from going out again.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { stableMessageId } from '../../lib/delivery/compose-mail.ts';
import { createSqsEventSource } from '../../lib/local/sqs-event-source.ts';
import { createLambdaSandboxes, type LambdaSandboxes } from '../soak/lambda-sandboxes.ts';
import { type MailWorld, startMailWorld, WORLD_SENDER } from '../soak/mail-world.ts';

const FUNCTION_TIMEOUT_MS = 8_000;
const SOCKET_TIMEOUT_MS = 1_500;

let world: MailWorld | undefined;
let sandboxes: LambdaSandboxes | undefined;
afterEach(async () => {
  await sandboxes?.close();
  await world?.stop();
  sandboxes = undefined;
  world = undefined;
});

async function setUp() {
  world = await startMailWorld({
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
    visibilityTimeoutSeconds: 10,
    maxReceiveCount: 5,
    rate: { perWindow: 100, windowSeconds: 60, marginSeconds: 2 },
    retryTimeScale: 0.02,
  });
  sandboxes = createLambdaSandboxes({ env: world.env, functionTimeoutMs: FUNCTION_TIMEOUT_MS });
  const source = createSqsEventSource({
    sqs: world.sqs.client,
    queueUrl: world.queueUrl,
    handler: sandboxes.handler,
    waitTimeSeconds: 1,
    functionTimeoutMs: FUNCTION_TIMEOUT_MS + 15_000,
  });
  return { world, sandboxes, source };
}

/** Ten messages with five recipients each (each RCPT can be stalled on its own). */
async function enqueueTen(w: MailWorld): Promise<string[]> {
  const ids = Array.from({ length: 10 }, (_, i) => `timeout-${i + 1}`);
  await w.sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: w.queueUrl,
      Entries: ids.map((id, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({
          id,
          to: Array.from({ length: 5 }, (_, r) => `reader-${r}@fabrikam.example`),
          subject: `Message ${id}`,
          text: 'Running out of time.',
        }),
      })),
    }),
  );
  return ids;
}

/** How many copies of each mail id the SMTP server accepted. */
function copiesById(w: MailWorld, ids: string[]): Record<string, number> {
  const byMessageId = new Map(ids.map((id) => [stableMessageId(id, WORLD_SENDER), id]));
  const copies = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const m of w.smtp.messages) copies[byMessageId.get(m.messageId ?? '') ?? 'unknown']! += 1;
  return copies;
}

describe('a batch that runs out of time', () => {
  it('is retried as a whole, and what was sent before the timeout is not sent again', async () => {
    const { world: w, sandboxes: s, source } = await setUp();
    const ids = await enqueueTen(w);
    // After three messages went out, the server slows down on the fourth: each reply alone stays
    // under the client's socket timeout, but together (MAIL + 5 × RCPT, 8.4 s) they outlast the
    // function. The runtime kills the sandbox before the fourth message's DATA.
    void w.smtp.waitForMessages(3, 30_000).then(() => {
      w.smtp.stallNext('mail', 1_400);
      w.smtp.stallNext('rcpt', 1_400, 5);
    });

    const first = await source.drainOnce();
    expect(first?.error).toMatchObject({ message: expect.stringMatching(/timed out/) });
    expect(first?.deleted).toEqual([]);
    expect(s.stats.timeouts).toBe(1);
    expect(w.smtp.messages).toHaveLength(3);

    // The whole batch reappears after the visibility timeout; the fourth message's claim expired
    // with the sandbox that held it.
    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 40_000 });
    expect(copiesById(w, ids)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
  }, 60_000);

  it('sends twice only when the server accepted a message whose 250 never came back', async () => {
    const { world: w, source } = await setUp();
    const ids = await enqueueTen(w);
    // The server holds its reply to the fourth message's DATA past the client's socket timeout and
    // then accepts it: the client must assume it failed. This is the documented window.
    void w.smtp.waitForMessages(3, 30_000).then(() => {
      w.smtp.stallNext('data', SOCKET_TIMEOUT_MS + 1_000);
    });

    await source.runUntilIdle({ includeInvisible: true, timeoutMs: 40_000 });
    const copies = copiesById(w, ids);
    expect(copies).toEqual({ ...Object.fromEntries(ids.map((id) => [id, 1])), 'timeout-4': 2 });
    // Both copies carry the same Message-ID, so the recipient's system can drop the second.
    const fourth = w.smtp.messages.filter(
      (m) => m.messageId === stableMessageId('timeout-4', WORLD_SENDER),
    );
    expect(new Set(fourth.map((m) => m.messageId)).size).toBe(1);
  }, 60_000);
});
