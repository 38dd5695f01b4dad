/**
 * The soak's traffic: mostly good mail, plus bodies that can never be sent (invalid JSON, a broken
 * contract) and mail to a recipient the server refuses for good. Each message knows the outcome it
 * must end in, so the soak can tell lost and misrouted messages apart from faults it injected.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A recipient the SMTP emulator refuses with a permanent `550 5.1.10`. */
export const SOAK_UNKNOWN_RECIPIENT = 'nobody@fabrikam.example';

/**
 * `partly-rejected`: two readers and the refused recipient; the readers must get it and the refused
 * one be named by a dead letter (over SMTP; Graph refuses such a message whole).
 */
export type SoakKind =
  | 'good'
  | 'invalid-json'
  | 'invalid-contract'
  | 'rejected'
  | 'partly-rejected';

export interface SoakMessage {
  /** The mail `id`; also written into bodies that are not JSON, so a dead letter maps back. */
  key: string;
  kind: SoakKind;
  body: string;
  /** Whom it is addressed to (lower case), whatever became of the body. */
  recipients: string[];
}

/** Deterministic pseudo-random numbers (mulberry32), so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` messages: ~3 % invalid JSON, ~3 % breaking the contract, ~4 % refused for good, ~3 % with
 * one recipient refused for good among readers.
 */
export function soakMessages(count: number, random: () => number): SoakMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `soak-${String(i + 1).padStart(5, '0')}`;
    const roll = random();
    // Three recipients: three RCPT replies a slow server can stall or a fault can defer.
    const readers = [0, 1, 2].map((r) => `reader-${(i + r) % 97}@fabrikam.example`);
    const mail = {
      id,
      to: readers,
      subject: `Soak message ${id}`,
      text: `Body of ${id}.`,
      tags: { soak: 'true' },
    };
    const of = (kind: SoakKind, body: string, recipients = readers): SoakMessage => ({
      key: id,
      kind,
      body,
      recipients,
    });
    if (roll < 0.03) return of('invalid-json', `{"id":"${id}", not json`);
    if (roll < 0.06) {
      const { subject: _drop, ...broken } = mail;
      return of('invalid-contract', JSON.stringify(broken));
    }
    if (roll < 0.1) {
      const to = [SOAK_UNKNOWN_RECIPIENT];
      return of('rejected', JSON.stringify({ ...mail, to }), to);
    }
    if (roll < 0.13) {
      const to = [...readers.slice(0, 2), SOAK_UNKNOWN_RECIPIENT];
      return of('partly-rejected', JSON.stringify({ ...mail, to }), to);
    }
    return of('good', JSON.stringify(mail));
  });
}

/** Enqueues in batches of 10. */
export async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  messages: SoakMessage[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: m.body })),
      }),
    );
    const failed = result.Failed ?? [];
    if (failed.length > 0) throw new Error(`enqueue failed: ${failed[0]!.Message}`);
  }
}
