/**
 * The real handler, end to end: fauxqs → local event source (as the Lambda mapping) →
 * `functions/sender.ts` → Office 365 emulator with OAuth from the token endpoint.
 * Sent, invalid and rejected outcomes, DLQ attributes, partial refusal, S3 attachments,
 * one session and one token kept across warm invocations.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stableMessageId } from '../../lib/delivery/compose-mail.ts';
import { mail, SENDER, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
beforeAll(async () => {
  world = await startSenderWorld();
});
afterAll(() => world.stop());
beforeEach(() => {
  world.smtp.reset();
  world.tokens.reset();
});
afterEach(() => world.restoreEnv());

describe('sender end to end: sent, invalid, rejected', () => {
  it('sends valid messages and dead-letters invalid and rejected ones with the reason; nothing is retried', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    world.smtp.rejectRecipient(
      'nobody@example.com',
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@example.com not found by SMTP address lookup',
    );
    const bodies = [
      mail('welcome', {
        id: 'order-1',
        bcc: ['audit@example.com'],
        tags: { tenant: 't-secret-tag' },
      }),
      '{"to": ["ann@example.com"], "subject": ',
      { to: ['ann@example.com'], subject: 'no body' },
      mail('spoofed', { from: 'ceo@contoso.com' }),
      mail('unknown recipient', { to: ['nobody@example.com'] }),
      mail('alias', { from: 'Alerts <alerts@contoso.com>' }),
    ];
    const ids = await world.enqueue(queueUrl, bodies);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle({ includeInvisible: true });

    // What the server got: the two good messages, Bcc only in the envelope, tags never.
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(['alias', 'welcome']);
    const welcome = world.smtp.messages.find((m) => m.subject === 'welcome')!;
    expect(welcome.envelope.to.sort()).toEqual(['ann@example.com', 'audit@example.com']);
    expect(welcome.raw.toString()).not.toMatch(/audit@example\.com|t-secret-tag/);
    expect(welcome.messageId).toBe(stableMessageId('order-1', SENDER));
    expect(welcome.authUser).toBe(SENDER);
    expect(welcome.authMethod).toBe('XOAUTH2');

    // What the DLQ got: each body unchanged, with class, reason (server reply included) and time.
    const dead = await world.receiveAll(dlqUrl);
    const byBody = new Map(dead.map((m) => [m.Body, m.MessageAttributes ?? {}]));
    const attrs = (i: number) => {
      const body = typeof bodies[i] === 'string' ? bodies[i] : JSON.stringify(bodies[i]);
      const a = byBody.get(body as string);
      expect(a, `DLQ entry for body ${i}`).toBeDefined();
      return {
        failureClass: a!.FailureClass?.StringValue,
        reason: a!.FailureReason?.StringValue ?? '',
        at: a!.FailureAt?.StringValue ?? '',
      };
    };
    expect(dead).toHaveLength(4);
    expect(attrs(1)).toMatchObject({
      failureClass: 'invalid',
      reason: expect.stringMatching(/not JSON/),
    });
    expect(attrs(2)).toMatchObject({
      failureClass: 'invalid',
      reason: expect.stringMatching(/text|html/),
    });
    expect(attrs(3)).toMatchObject({
      failureClass: 'invalid',
      reason: expect.stringMatching(/ceo@contoso\.com is not allowed/),
    });
    expect(attrs(4)).toMatchObject({
      failureClass: 'rejected',
      reason: expect.stringContaining('550 5.1.10'),
    });
    expect(new Date(attrs(4).at).toISOString()).toBe(attrs(4).at);

    // Nothing was retried: one invocation, nothing reported, the queue is empty.
    expect(source.reports).toHaveLength(1);
    expect(source.reports[0]!.response).toEqual({ batchItemFailures: [] });
    expect(source.reports[0]!.deleted.sort()).toEqual([...ids].sort());
    expect(await world.receiveAll(queueUrl)).toEqual([]);
  });

  it('sends to the recipients accepted, dead-letters the refused one alone, and logs it with the ids', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { POWERTOOLS_LOG_LEVEL: 'INFO' }),
    );
    world.smtp.rejectRecipient(
      'gone@example.com',
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found',
    );
    await world.enqueue(queueUrl, [
      mail('partial', { id: 'p-1', to: ['ann@example.com', 'gone@example.com'] }),
    ]);
    const logs = world.captureLogs();
    try {
      await world.eventSource(handler, queueUrl).runUntilIdle();
    } finally {
      logs.stop();
    }
    expect(world.smtp.messages).toHaveLength(1);
    expect(world.smtp.messages[0]!.envelope.to).toEqual(['ann@example.com']);
    const dead = await world.receiveAll(dlqUrl);
    expect(dead.map((m) => m.MessageAttributes?.FailureRecipients?.StringValue)).toEqual([
      'gone@example.com',
    ]);
    const line = logs.lines.find((l) => l.refused !== undefined);
    expect(line).toMatchObject({
      level: 'WARN',
      messageId: 'p-1',
      accepted: 1,
      refused: { count: 1, recipients: ['gone@example.com'] },
    });
    expect(line?.sqsMessageId).toEqual(expect.any(String));
    // Never a body, never a token in the logs.
    const all = JSON.stringify(logs.lines);
    expect(all).not.toContain('body of partial');
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('attaches files from S3 (fetched at send time) and inline base64 ones', async () => {
    const s3 = new S3Client({
      endpoint: world.sqs.endpoint,
      region: world.sqs.region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'reports' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'reports',
        Key: 'q1/sales.csv',
        Body: 'region,total\nnorth,42\n',
      }),
    );
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    await world.enqueue(queueUrl, [
      mail('report', {
        attachments: [
          {
            filename: 'sales.csv',
            contentType: 'text/csv',
            s3: { bucket: 'reports', key: 'q1/sales.csv' },
          },
          { filename: 'note.txt', content: Buffer.from('inline note').toString('base64') },
        ],
      }),
      mail('missing object', {
        attachments: [{ filename: 'x.csv', s3: { bucket: 'reports', key: 'nope.csv' } }],
      }),
    ]);
    await world.eventSource(handler, queueUrl).runUntilIdle();
    s3.destroy();

    expect(world.smtp.messages).toHaveLength(1);
    const parsed = await simpleParser(world.smtp.messages[0]!.raw);
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
      ['sales.csv', 'region,total\nnorth,42\n'],
      ['note.txt', 'inline note'],
    ]);
    const [dead] = await world.receiveAll(dlqUrl);
    expect(dead?.MessageAttributes?.FailureClass?.StringValue).toBe('invalid');
    expect(dead?.MessageAttributes?.FailureReason?.StringValue).toContain('s3://reports/nope.csv');
  });
});

describe('sender end to end: rejected by the server after DATA', () => {
  it('dead-letters a message the mailbox may not send as (554 5.2.252), and goes on with the batch', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    // Allowed by MAIL_ALLOWED_FROM, but Exchange has no send-as right for it: only the server knows.
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { MAIL_ALLOWED_FROM: '@contoso.com' }),
    );
    await world.enqueue(queueUrl, [
      mail('as billing', { from: 'billing@contoso.com' }),
      mail('as me'),
    ]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle();
    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['as me']);
    const [dead] = await world.receiveAll(dlqUrl);
    expect(dead?.MessageAttributes?.FailureClass?.StringValue).toBe('rejected');
    expect(dead?.MessageAttributes?.FailureReason?.StringValue).toContain('5.2.252');
    expect(source.reports[0]!.response?.batchItemFailures).toEqual([]);
  });
});

describe('sender end to end: sessions and tokens', () => {
  it('keeps ONE SMTP session and ONE token across warm invocations', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    const source = world.eventSource(handler, queueUrl, { batchSize: 4 });
    await world.enqueue(
      queueUrl,
      Array.from({ length: 12 }, (_, i) => mail(`m${i}`)),
    );
    await source.runUntilIdle();

    expect(world.smtp.messages).toHaveLength(12);
    const batches = source.reports.length;
    expect(batches).toBeGreaterThanOrEqual(3);
    // The warm instance keeps its session between invocations (SMTP_KEEPALIVE_SECONDS, default
    // 60), so all the batches share one connection, one TLS handshake and one AUTH. Back to back,
    // no RSET check is needed either.
    expect(world.smtp.stats.connections).toBe(1);
    expect(world.smtp.stats.tlsHandshakes).toBe(1);
    expect(world.smtp.stats.authSuccesses).toBe(1);
    expect(new Set(world.smtp.messages.map((m) => m.connectionId)).size).toBe(1);
    expect(world.smtp.stats.resetChecks).toBe(0);
    // The MSAL cache lives in the module: one token request for all the batches.
    expect(world.tokens.tokenRequests).toBe(1);
  });
});
