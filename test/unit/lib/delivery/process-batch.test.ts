import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResult } from '../../../../lib/delivery/batch-outcome.ts';
import { type BatchDeps, processBatch } from '../../../../lib/delivery/process-batch.ts';
import { createSqsEventSource } from '../../../../lib/local/sqs-event-source.ts';
import { SQS_MAX_MESSAGE_BYTES } from '../../../../lib/message/mail-message-limits.ts';
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
  /** String message attributes of each message, by position. */
  attributes?: Record<string, string>[];
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
        ...(options.attributes?.[i] && {
          MessageAttributes: Object.fromEntries(
            Object.entries(options.attributes[i]).map(([k, v]) => [
              k,
              { DataType: 'String', StringValue: v },
            ]),
          ),
        }),
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
  return {
    result: result!,
    records,
    report: report!,
    sessions,
    visibility,
    queueUrl,
    dlqUrl,
    outcomeOf,
  };
}

/** What is visible on `queueUrl` (the DLQ, or the queue for copies), with attributes. */
async function receiveDlq(queueUrl: string) {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
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

  it('splits a message by recipient: a copy for the deferred, a dead letter for the refused, nothing again for the accepted', async () => {
    const body = mail('split', {
      id: 'm-split',
      to: ['ann@example.com', 'defer-1@example.com'],
      cc: ['gone-1@example.com'],
      tags: { tenant: 'acme' },
    });
    const { result, queueUrl, dlqUrl, report } = await run([body], { deps: { random: () => 0 } });
    expect(result.records[0]!.outcome).toMatchObject({
      kind: 'partial',
      accepted: ['ann@example.com'],
      deferred: { recipients: ['defer-1@example.com'], delaySeconds: 0 },
      refused: { recipients: ['gone-1@example.com'] },
    });
    expect(result.batchItemFailures).toEqual([]);
    expect(report.deleted).toHaveLength(1);

    const [dead, ...moreDead] = await receiveDlq(dlqUrl);
    expect(moreDead).toEqual([]);
    expect(dead!.Body).toBe(body);
    expect(dead!.MessageAttributes).toMatchObject({
      FailureClass: { StringValue: 'rejected' },
      FailureRecipients: { StringValue: 'gone-1@example.com' },
    });
    expect(dead!.MessageAttributes!.FailureReason!.StringValue).toContain('550 5.1.10');

    const [copy, ...moreCopies] = await receiveDlq(queueUrl);
    expect(moreCopies).toEqual([]);
    expect(copy!.Body).toBe(body);
    expect(copy!.MessageAttributes).toEqual({
      FailureRecipients: { DataType: 'String', StringValue: 'defer-1@example.com' },
      MailId: { DataType: 'String', StringValue: 'm-split' },
    });
    // Tags ride on the log lines (never in the mail: see compose-mail tests).
    expect(obs.logs().find((l) => l.level === 'WARN')).toMatchObject({
      tags: { tenant: 'acme' },
      accepted: 1,
      deferred: { count: 1, recipients: ['defer-1@example.com'] },
      refused: { count: 1, recipients: ['gone-1@example.com'] },
    });
    expect(obs.metricTotals()).toMatchObject({
      MessagesSent: 1,
      RecipientsDeferred: 1,
      RecipientsRefused: 1,
    });
  });

  it('moves a body of a full 1 MiB (no room for attributes) to the DLQ rather than retrying it', async () => {
    const shape = mail('huge');
    const body = shape.replace('"hi"', `"${'x'.repeat(SQS_MAX_MESSAGE_BYTES - shape.length + 2)}"`);
    expect(Buffer.byteLength(body)).toBe(SQS_MAX_MESSAGE_BYTES);
    const { result, dlqUrl, sessions } = await run([body]);
    expect(result.records[0]!.outcome).toMatchObject({ kind: 'invalid' });
    expect(result.batchItemFailures).toEqual([]);
    expect(sessions.all).toHaveLength(0);
    const [dead] = await receiveDlq(dlqUrl);
    expect(dead!.Body).toBe(body);
    expect(obs.logs().find((l) => l.trimmed)).toMatchObject({
      level: 'WARN',
      trimmed: expect.stringContaining('FailureReason left out'),
      reason: expect.stringContaining('too big'),
    });
  });

  it('sends a narrowed record to the recipients it names alone, with the headers of the whole message', async () => {
    const body = mail('again', {
      to: ['ann@example.com', 'Defer-1@example.com'],
      cc: ['bob@example.com'],
    });
    const { result, sessions } = await run([body], {
      attributes: [{ FailureRecipients: 'defer-1@example.com, bob@example.com, eve@example.com' }],
    });
    const { mime } = sessions.all[0]!.sent[0]!;
    // eve@ is not a recipient of the message: the attribute can narrow, never add.
    expect(mime.envelope).toMatchObject({
      to: ['Defer-1@example.com', 'bob@example.com'],
      narrowed: true,
    });
    expect(mime.raw.toString()).toMatch(/^To: ann@example.com, Defer-1@example.com$/m);
    expect(mime.raw.toString()).toMatch(/^Cc: bob@example.com$/m);
    expect(result.records[0]!.outcome).toMatchObject({
      kind: 'partial',
      accepted: ['bob@example.com'],
      deferred: { recipients: ['Defer-1@example.com'] },
    });
  });

  it('dead-letters a narrowed record whose recipients are all refused, still naming them', async () => {
    const body = mail('again', { to: ['ann@example.com', 'gone-2@example.com'] });
    const { result, dlqUrl } = await run([body], {
      attributes: [{ FailureRecipients: 'gone-2@example.com' }],
    });
    expect(result.records[0]!.outcome).toMatchObject({
      kind: 'rejected',
      recipients: ['gone-2@example.com'],
    });
    const [dead] = await receiveDlq(dlqUrl);
    expect(dead!.MessageAttributes?.FailureRecipients?.StringValue).toBe('gone-2@example.com');
  });

  it('refuses a record whose FailureRecipients names none of its recipients', async () => {
    const { result, sessions, dlqUrl } = await run([mail('stranger')], {
      attributes: [{ FailureRecipients: 'eve@example.com' }],
    });
    expect(sessions.all.flatMap((s) => s.sent)).toEqual([]);
    expect(result.records[0]!.outcome).toMatchObject({ kind: 'invalid' });
    const [dead] = await receiveDlq(dlqUrl);
    expect(dead!.MessageAttributes?.FailureReason?.StringValue).toMatch(
      /FailureRecipients names none of the message's recipients/,
    );
  });

  it('retries in place when every recipient got a temporary reply, and dead-letters when all were refused', async () => {
    const { result } = await run([
      mail('all deferred', { to: ['defer-1@example.com', 'defer-2@example.com'] }),
      mail('all refused', { to: ['gone-1@example.com'] }),
      mail('mixed, none accepted', { to: ['gone-1@example.com', 'defer-1@example.com'] }),
    ]);
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'retry', cause: 'temporary', reason: expect.stringContaining('450 4.2.1') },
      { kind: 'rejected', reason: expect.stringContaining('550 5.1.10') },
      {
        kind: 'partial',
        accepted: [],
        deferred: { recipients: ['defer-1@example.com'] },
        refused: { recipients: ['gone-1@example.com'] },
      },
    ]);
    expect(result.records[1]!.outcome).not.toHaveProperty('recipients');
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
      settle: async (id, verdict) => void calls.push(`settle ${id} ${JSON.parse(verdict).kind}`),
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

  it('brings a message whose claim another attempt holds back when that claim lapses, not sooner', async () => {
    // A sandbox that timed out leaves its claim for the function timeout and more; backoff alone
    // would spend every receive on "in progress" and dead-letter a message nobody may have sent.
    const lapses = Date.now() + 600_000;
    const { ledger } = fakeLedger({ busy: { inProgressUntil: lapses } });
    const { result } = await run([mail('other', { id: 'busy' })], { deps: { ledger } });
    const outcome = result.records[0]!.outcome;
    expect(outcome).toMatchObject({ kind: 'retry', cause: 'in-progress' });
    const delay = (outcome as { delaySeconds: number }).delaySeconds;
    expect(delay).toBeGreaterThanOrEqual(600);
    expect(delay).toBeLessThanOrEqual(602);
  });

  it('keeps a refused message from the server until its dead letter is on the DLQ', async () => {
    const { ledger, calls } = fakeLedger({});
    const missingDlq = `${sqs.endpoint}/000000000000/no-such-dlq`;
    const first = await run([mail('reject me', { id: 'r1' })], {
      deps: { ledger },
      dlqUrl: missingDlq,
    });
    expect(first.result.records[0]!.outcome).toMatchObject({
      kind: 'retry',
      cause: 'dead-letter-failed',
    });
    expect(calls).toEqual(['claim r1', 'settle r1 rejected']);

    // The next receive finds the verdict: no second send, only the move, then the verdict goes.
    const verdict = JSON.stringify({ kind: 'rejected', reason: '550 5.1.10 earlier' });
    const again = fakeLedger({ r1: { verdict } });
    const second = await run([mail('reject me', { id: 'r1' })], { deps: { ledger: again.ledger } });
    expect(second.sessions.all).toHaveLength(0);
    expect(second.result.records[0]!.outcome).toMatchObject({ kind: 'rejected' });
    expect(again.calls).toEqual(['claim r1', 'release r1']);
    const [dead] = await receiveDlq(second.dlqUrl);
    expect(dead!.MessageAttributes?.FailureReason?.StringValue).toBe('550 5.1.10 earlier');
  });

  it('keys a narrowed record apart from its message, and marks a split one sent once its moves are done', async () => {
    const { ledger, calls } = fakeLedger({});
    await run(
      [
        mail('split', { id: 's1', to: ['ann@example.com', 'defer-1@example.com'] }),
        mail('narrowed', { id: 's2', to: ['ann@example.com', 'bob@example.com'] }),
      ],
      { deps: { ledger }, attributes: [{}, { FailureRecipients: 'bob@example.com' }] },
    );
    // Each record's own calls in order (the batch may prepare s2 while s1 waits for its answer).
    const of = (key: RegExp) => calls.filter((call) => key.test(call.split(' ')[1]!));
    expect(of(/^s1$/)).toEqual(['claim s1', 'settle s1 partial', 'complete s1']);
    expect(of(/^s2\//)).toEqual([
      expect.stringMatching(/^claim s2\/[\w-]{22}$/),
      expect.stringMatching(/^complete s2\/[\w-]{22}$/),
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
