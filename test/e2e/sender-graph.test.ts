/**
 * The real handler with MAIL_TRANSPORT=graph, end to end: fauxqs → local event source →
 * `functions/sender.ts` → the Graph emulator, with tokens for the Graph audience from the token
 * endpoint. The same five outcomes as over SMTP, the same MIME and Message-ID, and the Graph
 * specifics: RBAC scope errors stop the batch, throttling waits out Retry-After and holds back the
 * mailbox's shared rate limit, a message over 4 MB is rejected with the fix (or uploaded).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stableMessageId } from '../../lib/delivery/compose-mail.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';
import { type GraphEmulator, startGraphEmulator } from '../emulators/graph-emulator.ts';
import { mail, SENDER, type SenderWorld, startSenderWorld } from './sender-world.ts';

const OUTSIDE_SCOPE = 'ceo@contoso.com';
const BIG = 3_500_000;

let world: SenderWorld;
let graph: GraphEmulator;
let dynamo: DynamoDbEmulator;

beforeAll(async () => {
  world = await startSenderWorld();
  graph = await startGraphEmulator({
    tokenEndpoint: world.tokens,
    mailboxes: { [SENDER]: { sendAs: ['alerts@contoso.com'] }, [OUTSIDE_SCOPE]: {} },
    // The app's Graph permissions come from RBAC for Applications, scoped to the sender.
    rbac: { 'test-client': { mailSend: [SENDER], mailReadWrite: [SENDER] } },
  });
  dynamo = await startDynamoDbEmulator();
  const s3 = new S3Client({
    endpoint: world.sqs.endpoint,
    region: world.sqs.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'graph-files' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'graph-files', Key: 'big.bin', Body: Buffer.alloc(BIG, 1) }),
  );
  s3.destroy();
});
afterAll(async () => {
  await world.stop();
  await graph.stop();
  await dynamo.stop();
});
beforeEach(() => {
  graph.reset();
  world.tokens.reset();
});
afterEach(() => world.restoreEnv());

function graphEnv(
  queueUrl: string,
  dlqUrl: string,
  extra: Record<string, string | undefined> = {},
) {
  return world.env(queueUrl, dlqUrl, {
    MAIL_TRANSPORT: 'graph',
    O365_GRAPH_ENDPOINT: graph.endpoint,
    // The SMTP door's settings are left in place: Graph must not need them.
    ...extra,
  });
}

const bigAttachment = { filename: 'big.bin', s3: { bucket: 'graph-files', key: 'big.bin' } };

async function deadLetters(dlqUrl: string) {
  const dead = await world.receiveAll(dlqUrl);
  const subjectOf = (body = '') => {
    try {
      return (JSON.parse(body) as { subject?: string }).subject ?? body;
    } catch {
      return body;
    }
  };
  return new Map(
    dead.map((m) => [
      subjectOf(m.Body),
      {
        failureClass: m.MessageAttributes?.FailureClass?.StringValue,
        reason: m.MessageAttributes?.FailureReason?.StringValue ?? '',
      },
    ]),
  );
}

describe('sender end to end over Graph: the five outcomes', () => {
  it('sends the same MIME as SMTP would, and dead-letters invalid, refused and oversized messages with the reason', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(graphEnv(queueUrl, dlqUrl));
    graph.rejectRecipient('nobody@example.com');
    const ids = await world.enqueue(queueUrl, [
      mail('welcome', {
        id: 'order-1',
        bcc: ['audit@example.com'],
        tags: { tenant: 't-secret-tag' },
      }),
      '{"to": ["ann@example.com"], "subject": ',
      mail('unknown recipient', { to: ['nobody@example.com'] }),
      mail('too big', { attachments: [bigAttachment] }),
      mail('alias', { from: 'Alerts <alerts@contoso.com>' }),
    ]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle({ includeInvisible: true });

    expect(graph.messages.map((m) => m.subject).sort()).toEqual(['alias', 'welcome']);
    const welcome = graph.messages.find((m) => m.subject === 'welcome')!;
    expect(welcome).toMatchObject({
      mailbox: SENDER,
      route: 'sendMail',
      messageId: stableMessageId('order-1', SENDER),
      bcc: ['audit@example.com'],
      savedToSentItems: true,
    });
    expect(welcome.raw.toString()).not.toContain('t-secret-tag');

    const dead = await deadLetters(dlqUrl);
    expect(dead.size).toBe(3);
    expect(dead.get('{"to": ["ann@example.com"], "subject": ')?.failureClass).toBe('invalid');
    expect(dead.get('unknown recipient')).toEqual({
      failureClass: 'rejected',
      reason: expect.stringMatching(
        /^Invalid recipients \(sendMail\): 400 ErrorInvalidRecipients: /,
      ),
    });
    expect(dead.get('too big')).toEqual({
      failureClass: 'rejected',
      reason: expect.stringMatching(
        /^Message too large for sendMail: the sendMail request would be 6\.\d MB .* Fix: Set MAIL_GRAPH_LARGE_MESSAGES=upload .*Mail\.ReadWrite/,
      ),
    });
    expect(source.reports).toHaveLength(1);
    expect(source.reports[0]!.deleted.sort()).toEqual([...ids].sort());
    // One token, for Graph, for the whole batch.
    expect(world.tokens.tokensIssued).toBe(1);
    expect(world.smtp.messages).toEqual([]);
  });

  it('uploads the oversized message through a draft with MAIL_GRAPH_LARGE_MESSAGES=upload', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      graphEnv(queueUrl, dlqUrl, {
        MAIL_GRAPH_LARGE_MESSAGES: 'upload',
        MAIL_SAVE_TO_SENT_ITEMS: 'false',
      }),
    );
    await world.enqueue(queueUrl, [mail('too big', { id: 'big-1', attachments: [bigAttachment] })]);
    await world.eventSource(handler, queueUrl).runUntilIdle();
    expect(graph.messages).toHaveLength(1);
    expect(graph.messages[0]).toMatchObject({
      route: 'draft',
      messageId: stableMessageId('big-1', SENDER),
      savedToSentItems: false,
    });
    expect(graph.messages[0]!.attachments.map((a) => [a.name, a.content.length])).toEqual([
      ['big.bin', BIG],
    ]);
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
  });
});

describe('sender end to end over Graph: configuration errors and throttling', () => {
  it('stops the batch when the RBAC scope leaves the mailbox out: nothing dead-lettered, one error with the RBAC commands', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      graphEnv(queueUrl, dlqUrl, {
        MAIL_SENDER: OUTSIDE_SCOPE,
        MAIL_ALLOWED_FROM: OUTSIDE_SCOPE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      }),
    );
    const ids = await world.enqueue(queueUrl, [mail('one'), mail('two'), mail('three')]);
    const logs = world.captureLogs();
    const source = world.eventSource(handler, queueUrl);
    try {
      await source.drainOnce();
    } finally {
      logs.stop();
    }
    expect(source.reports[0]!.failed.sort()).toEqual([...ids].sort());
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
    expect(graph.stats.accessDenied).toBe(1);
    const errors = logs.lines.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(
      /403 ErrorAccessDenied.*Likely fix: Give the app Mail\.Send on MAIL_SENDER with RBAC for Applications/,
    );
    expect(errors[0]!.fix).toContain('-Role "Application Mail.Send" -CustomResourceScope');
  });

  it('waits out Retry-After on a 429, and the shared rate limiter holds every consumer of the mailbox back', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const table = await dynamo.createTable(`graph-rate-${Date.now()}`);
    const env = graphEnv(queueUrl, dlqUrl, {
      MAIL_RATE_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const handler = await world.loadHandler(env);
    graph.failNext({
      status: 429,
      code: 'ApplicationThrottled',
      message: 'Application is over its MailboxConcurrency limit.',
      headers: { 'retry-after': '120' },
    });
    await world.enqueue(queueUrl, [mail('first'), mail('second')]);
    const logs = world.captureLogs();
    const started = Date.now();
    try {
      await world.eventSource(handler, queueUrl).drainOnce();
    } finally {
      logs.stop();
    }
    const [first, second] = logs.lines.filter((l) => l.message === 'will retry');
    expect(first).toMatchObject({
      cause: 'temporary',
      reason: expect.stringMatching(
        /429 ApplicationThrottled: Application is over its MailboxConcurrency limit/,
      ),
    });
    expect(first!.delaySeconds as number).toBeGreaterThanOrEqual(120);
    // The next message already finds the mailbox blocked in the shared limiter.
    expect(second).toMatchObject({ cause: 'rate-limited' });
    expect(second!.delaySeconds as number).toBeGreaterThanOrEqual(119);
    // One request: the second message did not knock again.
    expect(graph.requests.filter((r) => r.includes('/sendMail'))).toHaveLength(1);
    const { Item } = await dynamo.client.send(
      new GetItemCommand({
        TableName: table,
        Key: { id: { S: `rate#${SENDER}` } },
        ConsistentRead: true,
      }),
    );
    expect(Number(Item?.blockedUntil?.N)).toBeGreaterThanOrEqual(started + 120_000);
    expect(graph.messages).toEqual([]);
  });
});
