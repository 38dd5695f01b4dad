import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResult } from '../../../../lib/delivery/batch-outcome.ts';
import { type BatchDeps, processBatch } from '../../../../lib/delivery/process-batch.ts';
import { createSqsEventSource } from '../../../../lib/local/sqs-event-source.ts';
import type { DeliveryLedger, LedgerClaim, SendRateLimiter } from '../../../../lib/types.ts';
import { type SqsEmulator, startSqsEmulator } from '../../../emulators/sqs-emulator.ts';
import {
  capturedObservability,
  recordVisibilityChanges,
  scriptedSessions,
} from './sender-test-kit.ts';

const sender = 'mailer@contoso.com';
const mail = (subject: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ to: ['ann@example.com'], subject, text: 'hi', ...extra });

let sqs: SqsEmulator;
let queueNo = 0;
let obs: ReturnType<typeof capturedObservability>;

beforeAll(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  sqs = await startSqsEmulator();
});
afterAll(() => sqs.stop());
afterEach(() => obs?.restore());

interface RunOptions {
  fifo?: boolean;
  /**
   * Presents records of a standard queue as FIFO records of these groups. fauxqs hands out one
   * message per FIFO group per receive (real SQS hands out several), so a real FIFO queue cannot
   * produce the batch this needs.
   */
  asFifoGroups?: string[];
  /** Gives records of a standard queue these message groups (SQS fair queues carry them too). */
  asStandardGroups?: string[];
  groups?: string[];
  remainingMs?: () => number;
  deps?: Partial<BatchDeps>;
  dlqUrl?: string;
}

/** Enqueues `bodies`, receives them as one Lambda batch and runs `processBatch` on it. */
async function run(bodies: string[], options: RunOptions = {}) {
  const name = `q${++queueNo}${options.fifo ? '.fifo' : ''}`;
  const { queueUrl, dlqUrl } = await sqs.createQueueWithDlq(name, { fifo: options.fifo });
  for (const [i, body] of bodies.entries()) {
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        ...(options.fifo
          ? { MessageGroupId: options.groups?.[i] ?? 'g', MessageDeduplicationId: `d${i}` }
          : {}),
      }),
    );
  }
  obs = capturedObservability();
  const sessions = scriptedSessions();
  const visibility = recordVisibilityChanges(sqs.client);
  let result: BatchResult | undefined;
  let records: SQSRecord[] = [];
  const deps: BatchDeps = {
    settings: {
      dlqUrl: options.dlqUrl ?? dlqUrl,
      queueUrl,
      sender,
      allowedFrom: [sender, '@notify.contoso.com'],
      safetyMarginMs: 5_000,
    },
    sqs: sqs.client,
    openSession: sessions.open,
    classifyFailure: (err) => ({ kind: 'retry', reason: String(err) }),
    random: () => 0.5,
    logger: obs.logger,
    metrics: obs.metrics,
    ...options.deps,
  };
  const source = createSqsEventSource({
    sqs: sqs.client,
    queueUrl,
    visibilityTimeout: 30,
    handler: async (event, context) => {
      records = event.Records.map((r, i) => {
        if (options.asFifoGroups) {
          return {
            ...r,
            eventSourceARN: `${r.eventSourceARN}.fifo`,
            attributes: { ...r.attributes, MessageGroupId: options.asFifoGroups[i] },
          };
        }
        if (options.asStandardGroups) {
          return {
            ...r,
            attributes: { ...r.attributes, MessageGroupId: options.asStandardGroups[i] },
          };
        }
        return r;
      });
      const ctx = options.remainingMs ? { getRemainingTimeInMillis: options.remainingMs } : context;
      result = await processBatch(records, deps, ctx);
      return { batchItemFailures: result.batchItemFailures };
    },
  });
  const report = await source.drainOnce();
  expect(report?.records).toHaveLength(bodies.length);
  const outcomeOf = (i: number) => result!.records[i]!.outcome;
  return { result: result!, records, report: report!, sessions, visibility, dlqUrl, outcomeOf };
}

async function receiveDlq(dlqUrl: string) {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

describe('processBatch', () => {
  it('sends good messages and moves invalid and rejected ones to the DLQ with the reason, body unchanged', async () => {
    const bodies = [
      mail('hello'),
      '{not json',
      JSON.stringify({ to: [], subject: 'x', text: 'y' }),
      mail('spoof', { from: 'ceo@contoso.com' }),
      mail('reject me'),
      mail('allowed domain', { from: 'alerts@notify.contoso.com' }),
    ];
    const { result, report, sessions, dlqUrl } = await run(bodies);

    expect(result.records.map((r) => r.outcome.kind)).toEqual([
      'sent',
      'invalid',
      'invalid',
      'invalid',
      'rejected',
      'sent',
    ]);
    expect(result.batchItemFailures).toEqual([]);
    expect(report.deleted).toHaveLength(6);
    expect(sessions.all).toHaveLength(1);
    expect(sessions.all[0]!.sent.map((m) => m.subject)).toEqual([
      'hello',
      'reject me',
      'allowed domain',
    ]);

    const dead = await receiveDlq(dlqUrl);
    expect(dead.map((m) => m.Body).sort()).toEqual(
      [bodies[1], bodies[2], bodies[3], bodies[4]].sort(),
    );
    const byBody = new Map(dead.map((m) => [m.Body, m.MessageAttributes!]));
    expect(byBody.get(bodies[1])!.FailureClass!.StringValue).toBe('invalid');
    expect(byBody.get(bodies[1])!.FailureReason!.StringValue).toMatch(/not JSON/);
    expect(byBody.get(bodies[2])!.FailureReason!.StringValue).toMatch(/recipient/i);
    expect(byBody.get(bodies[3])!.FailureReason!.StringValue).toMatch(
      /ceo@contoso.com is not allowed/,
    );
    expect(byBody.get(bodies[4])!.FailureClass!.StringValue).toBe('rejected');
    expect(byBody.get(bodies[4])!.FailureReason!.StringValue).toContain('550 5.1.10');
    expect(Date.parse(byBody.get(bodies[4])!.FailureAt!.StringValue!)).toBeGreaterThan(
      Date.now() - 60_000,
    );

    expect(obs.metricTotals()).toMatchObject({
      MessagesSent: 2,
      MessagesInvalid: 3,
      MessagesRejected: 1,
    });
    for (const line of obs
      .logs()
      .filter((l) => l.message !== 'No application metrics to publish')) {
      expect(line).toHaveProperty('messageId');
      expect(line).toHaveProperty('sqsMessageId');
    }
  });

  it('opens no SMTP session for a batch with nothing to send, and always closes the one it opened', async () => {
    const none = await run(['{bad']);
    expect(none.sessions.all).toHaveLength(0);
    const some = await run([mail('a'), mail('retry b'), mail('c')]);
    expect(some.sessions.all).toHaveLength(1);
    expect(some.sessions.all[0]!.closed).toBe(1);
  });

  it('reports temporary failures and delays them with backoff through visibility; a throttling floor holds', async () => {
    const { result, records, visibility } = await run([
      mail('retry 451'),
      mail('fine'),
      mail('throttle me'),
    ]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[0]!.messageId,
      records[2]!.messageId,
    ]);
    // random 0.5, first receive: 30 s ceiling → 15 s; with the 60 s throttling floor → 75 s.
    expect(visibility.get(records[0]!.receiptHandle)).toBe(15);
    expect(visibility.get(records[2]!.receiptHandle)).toBe(75);
    expect(visibility.has(records[1]!.receiptHandle)).toBe(false);
    expect(obs.metricTotals()).toMatchObject({ MessagesSent: 1, MessagesRetried: 2 });
  });

  it('stops sending on a configuration error: the rest is retried unsent, with one error log', async () => {
    const { result, sessions, visibility, records } = await run([
      mail('ok'),
      mail('config broken'),
      mail('never'),
      '{bad',
    ]);
    expect(result.records.map((r) => r.outcome.kind)).toEqual(['sent', 'config', 'retry', 'retry']);
    expect(result.records[2]!.outcome).toMatchObject({ cause: 'config' });
    expect(result.batchItemFailures).toHaveLength(3);
    expect(sessions.all[0]!.sent.map((m) => m.subject)).toEqual(['ok', 'config broken']);
    const errors = obs.logs().filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(
      /SmtpClientAuthentication is disabled.*Likely fix: enable SMTP AUTH/,
    );
    // A broken configuration needs a person: at least 5 minutes before the next attempt.
    for (const r of records.slice(1))
      expect(visibility.get(r.receiptHandle)).toBeGreaterThanOrEqual(300);
    expect(obs.metricTotals()).toMatchObject({
      ConfigErrors: 1,
      MessagesRetried: 3,
      MessagesSent: 1,
    });
  });

  it('keeps FIFO order: a failed message holds back the rest of its group, other groups go on', async () => {
    const { result, sessions, visibility, records } = await run(
      [mail('a1'), mail('retry a2'), mail('b1'), mail('a3'), mail('b2')],
      { asFifoGroups: ['A', 'A', 'B', 'A', 'B'] },
    );
    expect(result.records.map((r) => r.outcome.kind)).toEqual([
      'sent',
      'retry',
      'sent',
      'retry',
      'sent',
    ]);
    expect(result.records[3]!.outcome).toMatchObject({ cause: 'held-back' });
    expect(sessions.all[0]!.sent.map((m) => m.subject)).toEqual(['a1', 'retry a2', 'b1', 'b2']);
    expect(visibility.get(records[3]!.receiptHandle)).toBe(
      visibility.get(records[1]!.receiptHandle),
    );
  });

  it('moves FIFO dead letters with the group and a dedup id', async () => {
    const { dlqUrl } = await run([mail('reject x')], { fifo: true, groups: ['tenant-7'] });
    const [dead] = await sqs.client
      .send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MessageSystemAttributeNames: ['MessageGroupId'],
        }),
      )
      .then((r) => r.Messages ?? []);
    expect(dead?.Attributes?.MessageGroupId).toBe('tenant-7');
  });

  it('stops before the Lambda deadline: unsent records are retries that come back at once', async () => {
    let remaining = 60_000;
    const { result, sessions, visibility, records } = await run(
      [mail('first'), mail('second'), mail('third')],
      {
        remainingMs: () => remaining,
        deps: {
          openSession: () => {
            const session = scriptedSessions().open();
            const send = session.send;
            session.send = async (m) => {
              remaining = 4_000; // the first send used up the budget
              return send(m);
            };
            return session;
          },
        },
      },
    );
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'sent' },
      { kind: 'retry', cause: 'out-of-time' },
      { kind: 'retry', cause: 'out-of-time' },
    ]);
    expect(sessions.all).toHaveLength(0);
    expect(visibility.get(records[1]!.receiptHandle)).toBe(0);
  });

  it('treats a function timeout shorter than one send as a configuration error, said once', async () => {
    const { result, sessions } = await run([mail('a'), mail('b')], { remainingMs: () => 3_000 });
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'config', fix: expect.stringMatching(/function timeout/) },
      { kind: 'retry', cause: 'config' },
    ]);
    expect(sessions.all).toHaveLength(0);
    expect(obs.logs().filter((l) => l.level === 'ERROR')).toHaveLength(1);
  });

  it('does not hold back message groups on a standard (fair) queue: only FIFO orders groups', async () => {
    const { result } = await run([mail('retry x'), mail('y')], {
      deps: {},
      asStandardGroups: ['A', 'A'],
    });
    expect(result.records.map((r) => r.outcome.kind)).toEqual(['retry', 'sent']);
  });

  it('keeps a record on the queue when its DLQ move fails (nothing lost)', async () => {
    const { result } = await run([mail('reject y')], {
      dlqUrl: `${sqs.endpoint}/000000000000/no-such-dlq`,
    });
    expect(result.records[0]!.outcome).toMatchObject({
      kind: 'retry',
      cause: 'dead-letter-failed',
    });
    expect(result.batchItemFailures).toHaveLength(1);
  });

  it('counts a partial recipient refusal as sent and logs the refused recipients', async () => {
    const { result } = await run([mail('partial', { tags: { tenant: 'acme' } })]);
    expect(result.records[0]!.outcome).toMatchObject({
      kind: 'sent',
      refused: ['gone@example.com'],
    });
    // Tags ride on the log lines (never in the mail: see compose-mail tests).
    expect(obs.logs().find((l) => l.refusedRecipients)).toMatchObject({
      tags: { tenant: 'acme' },
      refusedRecipients: ['gone@example.com'],
    });
  });
});

describe('processBatch with a delivery ledger and a rate limiter', () => {
  function fakeLedger(claims: Record<string, LedgerClaim>) {
    const calls: string[] = [];
    const ledger: DeliveryLedger = {
      claim: async (id) => {
        calls.push(`claim ${id}`);
        return claims[id] ?? 'claimed';
      },
      complete: async (id) => void calls.push(`complete ${id}`),
      release: async (id) => void calls.push(`release ${id}`),
    };
    return { ledger, calls };
  }

  it('does not send what the ledger says was sent, retries what is in progress, completes and releases', async () => {
    const { ledger, calls } = fakeLedger({ dup: 'already-sent', busy: 'in-progress' });
    const { result, sessions, records } = await run(
      [
        mail('again', { id: 'dup' }),
        mail('other', { id: 'busy' }),
        mail('new', { id: 'n1' }),
        mail('retry', { id: 'n2' }),
      ],
      { deps: { ledger } },
    );
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'sent', duplicate: true },
      { kind: 'retry', cause: 'in-progress' },
      { kind: 'sent', duplicate: false },
      { kind: 'retry', cause: 'temporary' },
    ]);
    expect(sessions.all[0]!.sent.map((m) => m.subject)).toEqual(['new', 'retry']);
    expect(calls).toEqual([
      'claim dup',
      'claim busy',
      'claim n1',
      'complete n1',
      'claim n2',
      'release n2',
    ]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([
      records[1]!.messageId,
      records[3]!.messageId,
    ]);
  });

  it('keys the ledger by the SQS message id when the message has no id', async () => {
    const { ledger, calls } = fakeLedger({});
    const { records } = await run([mail('no id')], { deps: { ledger } });
    expect(calls[0]).toBe(`claim ${records[0]!.messageId}`);
  });

  it('waits (retry with the limiter delay) when the budget is spent, and penalizes after throttling', async () => {
    const penalties: [string, number][] = [];
    let budget = 1;
    const rateLimiter: SendRateLimiter = {
      acquire: async () => (budget-- > 0 ? { ok: true } : { ok: false, retryAfterSeconds: 40 }),
      penalize: async (mailbox, seconds) => void penalties.push([mailbox, seconds]),
    };
    const first = await run([mail('throttle me')], { deps: { rateLimiter } });
    expect(penalties).toEqual([[sender, 60]]);
    expect(first.result.records[0]!.outcome).toMatchObject({ kind: 'retry', cause: 'temporary' });

    const second = await run([mail('later')], { deps: { rateLimiter } });
    expect(second.result.records[0]!.outcome).toMatchObject({
      kind: 'retry',
      cause: 'rate-limited',
    });
    expect(second.visibility.get(second.records[0]!.receiptHandle)).toBeGreaterThanOrEqual(40);
    expect(second.sessions.all).toHaveLength(0);
  });
});
