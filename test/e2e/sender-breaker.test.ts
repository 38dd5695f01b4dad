/**
 * The circuit breaker end to end: the REAL handler driven by the local event source, which honours
 * the breaker's switch as the event source mapping does in AWS, with the state in dynalite. A
 * configuration error pauses consuming at once, an outage after its threshold; messages then wait
 * on the queue without spending receives (a redrive policy of 2 would dead-letter them otherwise),
 * and the scheduled probe resumes consuming once it gets through.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBE_EVENT, type ProbeReport } from '../../lib/delivery/sender-lambda.ts';
import { DynamoDbBreakerStore } from '../../lib/guards/breaker/dynamodb-breaker-store.ts';
import { createLambdaContext } from '../../lib/local/lambda-sqs-event.ts';
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';
import { mail, SENDER, type SenderWorld, startSenderWorld } from './sender-world.ts';

let world: SenderWorld;
let dynamo: DynamoDbEmulator;
let tableNo = 0;

beforeAll(async () => {
  [world, dynamo] = await Promise.all([startSenderWorld(), startDynamoDbEmulator()]);
});
afterEach(async () => {
  await world.closeSession();
  world.smtp.setMailbox(SENDER, { sendAs: ['alerts@contoso.com'] });
  world.smtp.reset();
});
afterAll(async () => {
  await world.stop();
  await dynamo.stop();
});

/** A queue (redrive policy of 2 by default), a state table, and the handler pointed at both. */
async function setUp(overrides: Record<string, string> = {}, maxReceiveCount = 2) {
  const { queueUrl, dlqUrl } = await world.queues({ maxReceiveCount });
  const table = await dynamo.createTable(`state-${++tableNo}`);
  const env = world.env(queueUrl, dlqUrl, {
    MAIL_STATE_TABLE: table,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // 300 s of configuration back-off becomes 0.3 s: five back-offs pass in about 3 s.
    MAIL_RETRY_TIME_SCALE: '0.001',
    ...overrides,
  });
  const handler = await world.loadHandler(env);
  const store = new DynamoDbBreakerStore({
    client: dynamo.client,
    tableName: table,
    queueName: queueUrl.split('/').pop()!,
  });
  const source = world.eventSource(handler, queueUrl, {
    isPaused: async () => (await store.read()).paused,
    pausedPollMs: 20,
  });
  // The module's handler takes the scheduled probe's event too (an overload sender-world omits).
  const probeHandler = handler as unknown as (
    event: typeof PROBE_EVENT,
    context: Context,
  ) => Promise<ProbeReport>;
  const probe = () => probeHandler(PROBE_EVENT, createLambdaContext('sender', 60_000, 'us-east-1'));
  return { queueUrl, dlqUrl, handler, store, source, probe };
}

describe('circuit breaker: configuration error', () => {
  it('pauses at once, keeps every message on the queue while it lasts, and resumes when the probe gets through', async () => {
    const { queueUrl, dlqUrl, store, source, probe } = await setUp({
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    world.smtp.setMailbox(SENDER, { smtpAuthDisabled: true });
    await world.enqueue(
      queueUrl,
      [1, 2, 3, 4, 5].map((i) => mail(`paused ${i}`)),
    );

    const logs = world.captureLogs();
    await source.drainOnce();
    logs.stop();
    const state = await store.read();
    expect(state).toMatchObject({ paused: true, cause: 'config' });
    expect(state.paused && state.reason).toMatch(/5\.7\.139/);
    const pausedLines = logs.lines.filter((l) => l.message.startsWith('consuming paused'));
    expect(pausedLines).toHaveLength(1);
    expect(pausedLines[0]).toMatchObject({ level: 'ERROR', cause: 'config' });
    expect(pausedLines[0]!.message).toMatch(/Fix: .*`o365-mail resume`/);

    // The source keeps polling its switch for longer than five back-offs (2.4 s at this scale),
    // the probe with it, and takes nothing: the configuration is still broken.
    source.start();
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      expect(await probe()).toMatchObject({
        breaker: 'paused',
        reason: expect.stringMatching(/5\.7\.139/),
      });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(source.reports).toHaveLength(1);

    world.smtp.setMailbox(SENDER, { sendAs: ['alerts@contoso.com'] });
    expect(await probe()).toEqual({ breaker: 'resumed' });
    expect(await store.read()).toMatchObject({ paused: false, resumedAt: expect.any(Number) });

    await vi.waitFor(() => expect(world.smtp.messages).toHaveLength(5), { timeout: 15_000 });
    await source.stop();
    expect(await world.receiveAll(dlqUrl)).toEqual([]);
    // One failed receive before the pause, one that sent.
    const receives = source.reports.flatMap((r) =>
      r.records.map((record) => Number(record.attributes.ApproximateReceiveCount)),
    );
    expect(Math.max(...receives)).toBe(2);
  }, 40_000);

  it('leaves a batch delivered while paused untouched, and a probe finds nothing to do while running', async () => {
    const { queueUrl, handler, store, probe } = await setUp();
    expect(await probe()).toEqual({ breaker: 'closed' });
    await store.pause({ cause: 'config', reason: 'AUTH refused', fix: 'fix it' }, Date.now());
    await world.enqueue(queueUrl, [mail('delivered while the mapping switches off')]);
    const [message] = await world.receiveAll(queueUrl);
    const response = await handler(
      {
        Records: [
          {
            messageId: message!.MessageId!,
            receiptHandle: message!.ReceiptHandle!,
            body: message!.Body!,
            attributes: { ApproximateReceiveCount: '1' } as never,
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:mail',
            awsRegion: 'us-east-1',
          },
        ],
      },
      createLambdaContext('sender', 60_000, 'us-east-1'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: message!.MessageId }] });
    expect(world.smtp.stats.connections).toBe(0);
  });
});

/** A door in front of the SMTP emulator: while shut, every connection is closed on accept. */
async function startDoor(target: { host: string; port: number }) {
  let shut = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (shut) {
      client.destroy();
      return;
    }
    const upstream = netConnect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    shut() {
      shut = true;
      for (const s of sockets) s.destroy();
    },
    open() {
      shut = false;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('circuit breaker: outage', () => {
  it('pauses once nothing got through for the threshold, and resumes when the server is back', async () => {
    const door = await startDoor(world.smtp);
    try {
      // Failed connections come back within milliseconds here: many receives before the pause.
      const { queueUrl, dlqUrl, store, source, probe } = await setUp(
        {
          SMTP_PORT: String(door.port),
          MAIL_BREAKER_OUTAGE_SECONDS: '1',
          SMTP_KEEPALIVE_SECONDS: '0',
        },
        100,
      );
      door.shut();
      await world.enqueue(queueUrl, [mail('outage 1'), mail('outage 2')]);
      source.start();
      await vi.waitFor(async () => expect((await store.read()).paused).toBe(true), {
        timeout: 15_000,
        interval: 100,
      });
      const state = await store.read();
      expect(state).toMatchObject({ paused: true, cause: 'outage' });
      expect(state.paused && state.reason).toMatch(
        /^messages first tried \d+ s ago still cannot be sent/,
      );
      expect(await probe()).toMatchObject({ breaker: 'paused' });

      door.open();
      expect(await probe()).toEqual({ breaker: 'resumed' });
      await vi.waitFor(() => expect(world.smtp.messages).toHaveLength(2), { timeout: 15_000 });
      await source.stop();
      expect(await world.receiveAll(dlqUrl)).toEqual([]);
    } finally {
      await door.stop();
    }
  }, 40_000);
});
