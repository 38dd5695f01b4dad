/**
 * The batch with a session that pipelines: each record is prepared once the one before is on the
 * wire, not once it is answered. The fake session below writes at once and holds every answer
 * until the test releases it, so what the batch does between "written" and "answered" shows.
 */
import type { SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqsSender } from '../../../../lib/delivery/lazy-sqs-client.ts';
import { type BatchDeps, processBatch } from '../../../../lib/delivery/process-batch.ts';
import type {
  ComposedMime,
  DeliveryLedger,
  MailSession,
  SendOutcome,
  SendProgress,
  SendRateLimiter,
} from '../../../../lib/types.ts';
import { capturedObservability } from './sender-test-kit.ts';

const sender = 'mailer@contoso.com';
let obs: ReturnType<typeof capturedObservability> | undefined;
afterEach(() => obs?.restore());

/** Everything that happened, in order: `written <subject>`, `answered <subject>`, ledger and limiter calls. */
type Journal = string[];

interface HeldSession extends MailSession {
  /** Answers the oldest unanswered message with `outcome` (default: sent). */
  answer(outcome?: SendOutcome): Promise<void>;
  unanswered(): number;
}

function heldSession(journal: Journal, writes = true): HeldSession {
  const waiting: { subject: string; settle: (o: SendOutcome) => void }[] = [];
  let notify: () => void = () => {};
  return {
    async send(mime: ComposedMime, progress?: SendProgress) {
      const subject = /^Subject: (.*)$/m.exec(mime.raw.toString('utf8'))?.[1] ?? '';
      journal.push(`written ${subject}`);
      const answered = new Promise<SendOutcome>((settle) => waiting.push({ subject, settle }));
      if (writes) progress?.onWritten();
      notify();
      return answered;
    },
    async close() {
      journal.push('closed');
    },
    async answer(outcome = { kind: 'sent', response: '250 OK', accepted: [], refused: [] }) {
      while (waiting.length === 0) await new Promise<void>((resolve) => (notify = resolve));
      const next = waiting.shift()!;
      journal.push(`answered ${next.subject}`);
      next.settle(outcome);
      // Let the batch take the answer in before the test looks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    unanswered: () => waiting.length,
  };
}

let seq = 0;
function record(subject: string, group?: string): SQSRecord {
  seq++;
  return {
    messageId: `m-${seq}`,
    receiptHandle: `rh-${seq}`,
    body: JSON.stringify({ id: `mail-${subject}`, to: ['ann@example.com'], subject, text: 'hi' }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
      ...(group && { MessageGroupId: group }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:mail${group ? '.fifo' : ''}`,
    awsRegion: 'us-east-1',
  };
}

function depsFor(session: MailSession, extra: Partial<BatchDeps> = {}): BatchDeps {
  obs = capturedObservability();
  const sqs: SqsSender = { send: (async () => ({})) as unknown as SqsSender['send'] };
  return {
    settings: {
      dlqUrl: 'http://127.0.0.1:9/000000000000/dlq',
      queueUrl: 'http://127.0.0.1:9/000000000000/mail',
      sender,
      allowedFrom: [sender],
      safetyMarginMs: 5_000,
    },
    sqs,
    openSession: () => session,
    classifyFailure: (err) => ({ kind: 'retry', reason: String(err) }),
    random: () => 0.5,
    logger: obs.logger,
    metrics: obs.metrics,
    ...extra,
  };
}

const plenty = { getRemainingTimeInMillis: () => 60_000 };

/** Waits until `n` messages are written and unanswered. */
async function untilWritten(session: HeldSession, n: number) {
  while (session.unanswered() < n) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('processBatch with a session that pipelines', () => {
  it('prepares each record once the one before is written: all are on the wire before any answer', async () => {
    const journal: Journal = [];
    const session = heldSession(journal);
    const ledger: DeliveryLedger = {
      claim: async (id) => {
        journal.push(`claim ${id}`);
        return 'claimed';
      },
      complete: async (id) => void journal.push(`complete ${id}`),
      release: async (id) => void journal.push(`release ${id}`),
      settle: async () => undefined,
    };
    const limiter: SendRateLimiter = {
      acquire: async () => {
        journal.push('acquire');
        return { ok: true };
      },
      penalize: async () => undefined,
    };
    const batch = processBatch(
      [record('a'), record('b'), record('c')],
      depsFor(session, { ledger, rateLimiter: limiter }),
      plenty,
    );
    await untilWritten(session, 3);
    expect(journal).toEqual([
      'claim mail-a',
      'acquire',
      'written a',
      'claim mail-b',
      'acquire',
      'written b',
      'claim mail-c',
      'acquire',
      'written c',
    ]);
    await session.answer();
    await session.answer({ kind: 'retry', reason: '451 4.7.500 Server busy' });
    await session.answer();
    const result = await batch;
    expect(result.records.map((r) => r.outcome.kind)).toEqual(['sent', 'retry', 'sent']);
    // Each record's ledger entry is decided by its own answer; the session closes after the last.
    expect(journal.slice(9)).toEqual([
      'answered a',
      'complete mail-a',
      'answered b',
      'release mail-b',
      'answered c',
      'complete mail-c',
      'closed',
    ]);
  });

  it('keeps a FIFO group in order: its next record waits for the answer, other groups go on', async () => {
    const journal: Journal = [];
    const session = heldSession(journal);
    const batch = processBatch(
      [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('b2', 'B')],
      depsFor(session),
      plenty,
    );
    await untilWritten(session, 2);
    expect(journal).toEqual(['written a1', 'written b1']);
    // a1 fails: a2 is held back without being sent, b2 goes once b1 is answered.
    await session.answer({ kind: 'retry', reason: '451 4.7.500 Server busy' });
    await session.answer();
    await untilWritten(session, 1);
    await session.answer();
    const result = await batch;
    expect(journal.filter((l) => l.startsWith('written'))).toEqual([
      'written a1',
      'written b1',
      'written b2',
    ]);
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'retry', cause: 'temporary' },
      { kind: 'sent' },
      { kind: 'retry', cause: 'held-back' },
      { kind: 'sent' },
    ]);
  });

  it('stops at a configuration answer: what was written gets its answer, the rest is not sent, one error', async () => {
    const journal: Journal = [];
    const session = heldSession(journal);
    const config: SendOutcome = {
      kind: 'config',
      reason: '535 5.7.139 Authentication unsuccessful',
      fix: 'enable SMTP AUTH on the mailbox',
    };
    let answeredA = false;
    const batch = processBatch(
      [record('a'), record('b'), record('c'), record('d')],
      depsFor(session, {
        // a's answer comes while c is being prepared: c still goes, d is not started.
        rateLimiter: {
          acquire: async () => {
            if (journal.includes('written b') && !answeredA) {
              answeredA = true;
              await session.answer(config);
            }
            return { ok: true };
          },
          penalize: async () => undefined,
        },
      }),
      plenty,
    );
    while (!journal.includes('written c')) await new Promise((r) => setImmediate(r));
    await session.answer(config); // b, written before a's answer, gets the same answer
    await session.answer();
    const result = await batch;
    expect(journal.filter((l) => l.startsWith('written'))).toEqual([
      'written a',
      'written b',
      'written c',
    ]);
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'config' },
      { kind: 'retry', cause: 'config' },
      { kind: 'sent' },
      { kind: 'retry', cause: 'config' },
    ]);
    const errors = obs!.logs().filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
  });

  it('checks the deadline per record, when the one before is written', async () => {
    const journal: Journal = [];
    const session = heldSession(journal);
    let remaining = 60_000;
    const batch = processBatch([record('a'), record('b'), record('c')], depsFor(session), {
      getRemainingTimeInMillis: () => remaining,
    });
    await untilWritten(session, 1);
    remaining = 5_500; // b still starts with the 5 s margin in hand
    await untilWritten(session, 2);
    remaining = 4_000; // c would not
    await session.answer();
    await session.answer();
    const result = await batch;
    expect(journal.filter((l) => l.startsWith('written'))).toEqual(['written a', 'written b']);
    expect(result.records.map((r) => r.outcome)).toMatchObject([
      { kind: 'sent' },
      { kind: 'sent' },
      { kind: 'retry', cause: 'out-of-time', delaySeconds: 0 },
    ]);
  });

  it('gives a session that never says "written" one message at a time', async () => {
    const journal: Journal = [];
    const session = heldSession(journal, false);
    const batch = processBatch([record('a'), record('b')], depsFor(session), plenty);
    await untilWritten(session, 1);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(journal).toEqual(['written a']);
    await session.answer();
    await session.answer();
    await batch;
    expect(journal).toEqual(['written a', 'answered a', 'written b', 'answered b', 'closed']);
  });
});
