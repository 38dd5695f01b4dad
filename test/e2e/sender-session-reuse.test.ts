/**
 * The real handler keeps its authenticated SMTP session between warm invocations
 * (`SMTP_KEEPALIVE_SECONDS`): fauxqs → local event source → `functions/sender.ts` → a TCP
 * relay (the network, which can drop connections) → the Office 365 emulator. The emulator's counters
 * say how many TCP connections, TLS handshakes and AUTHs the batches cost.
 *
 * Pauses are not slept: a frozen Lambda sandbox runs no timers while the wall clock moves on, which
 * is what moving `Date.now` forward between two batches stands for.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
  vi,
} from 'vitest';
import type { BatchReport } from '../../lib/local/sqs-event-source.ts';
import { type LogLine, mail, type SenderWorld, startSenderWorld } from './sender-world.ts';
import { startTcpRelay, type TcpRelay } from './tcp-relay.ts';

let world: SenderWorld;
let relay: TcpRelay;
const realNow = Date.now.bind(Date);

beforeAll(async () => {
  world = await startSenderWorld();
  relay = await startTcpRelay(world.smtp);
});
afterAll(async () => {
  await world.closeSession();
  await relay.stop();
  await world.stop();
});
beforeEach(() => {
  world.smtp.reset();
  world.tokens.reset();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await world.closeSession();
  world.restoreEnv();
});

/** A warm sender: one handler module (one sandbox), invoked once per `batch()` call. */
async function warmSender(overrides: Record<string, string> = {}) {
  const { queueUrl, dlqUrl } = await world.queues();
  const handler = await world.loadHandler(
    world.env(queueUrl, dlqUrl, { SMTP_PORT: String(relay.port), ...overrides }),
  );
  const reports: BatchReport[] = [];
  let batchNo = 0;
  return {
    reports,
    /** Enqueues `n` messages and runs the sender until the queue is idle; returns the batches. */
    async batch(n = 3): Promise<BatchReport[]> {
      const label = `b${++batchNo}`;
      await world.enqueue(
        queueUrl,
        Array.from({ length: n }, (_, i) => mail(`${label}-${i}`)),
      );
      const ran = await world.eventSource(handler, queueUrl).runUntilIdle();
      reports.push(...ran);
      return ran;
    },
  };
}

/** The wall clock jumps `ms` ahead, as it does for a Lambda sandbox thawed after a pause. */
function pauseFor(ms: number): void {
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

const failuresOf = (reports: BatchReport[]) =>
  reports.flatMap((r) => r.response?.batchItemFailures ?? []);

describe('the SMTP session outlives the batch', () => {
  it('two batches back to back: one connection, one TLS handshake, one AUTH, no check', async () => {
    const sender = await warmSender();
    await sender.batch();
    await sender.batch();
    expect(world.smtp.messages).toHaveLength(6);
    expect(sender.reports.length).toBeGreaterThanOrEqual(2);
    expect(world.smtp.stats.connections).toBe(1);
    expect(world.smtp.stats.tlsHandshakes).toBe(1);
    expect(world.smtp.stats.authSuccesses).toBe(1);
    // Used a moment ago: no RSET round trip before the second batch.
    expect(world.smtp.stats.resetChecks).toBe(0);
    expect(failuresOf(sender.reports)).toEqual([]);
  });

  it('after a pause of a few seconds the kept session is checked with one RSET, then reused', async () => {
    const logs = world.captureLogs();
    try {
      const sender = await warmSender({ POWERTOOLS_LOG_LEVEL: 'DEBUG' });
      await sender.batch();
      pauseFor(5_000);
      await sender.batch();
      expect(world.smtp.messages).toHaveLength(6);
      expect(world.smtp.stats.connections).toBe(1);
      expect(world.smtp.stats.authSuccesses).toBe(1);
      expect(world.smtp.stats.resetChecks).toBe(1);
      const reused = logs.lines.find((l) => l.message === 'SMTP session reused');
      expect(reused?.level).toBe('DEBUG');
      expect(reused?.idleMs).toBeGreaterThanOrEqual(5_000);
    } finally {
      logs.stop();
    }
  });

  it('a session idle past the window is replaced (frozen sandbox: no timer ran, the next batch sees it)', async () => {
    const logs = world.captureLogs();
    try {
      const sender = await warmSender({
        SMTP_KEEPALIVE_SECONDS: '60',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      await sender.batch();
      pauseFor(61_000);
      await sender.batch();
      expect(world.smtp.messages).toHaveLength(6);
      expect(world.smtp.stats.connections).toBe(2);
      expect(world.smtp.stats.authSuccesses).toBe(2);
      // The old one was QUIT, not left open against the mailbox's connection limit.
      await world.smtp.waitForOpenConnections(1);
      expect(world.smtp.stats.commands.QUIT).toBe(1);
      expect(lines(logs.lines, 'SMTP session opened')).toHaveLength(2);
      expect(lines(logs.lines, 'SMTP session retired')).toEqual([
        expect.objectContaining({
          level: 'INFO',
          reason: 'idle past the keep-alive window',
          idleMs: expect.any(Number),
        }),
      ]);
      // Connection detail only: never a token, a password or a body.
      expect(JSON.stringify(logs.lines)).not.toMatch(/Bearer|test-secret|body of b/);
    } finally {
      logs.stop();
    }
  });

  it('a session idle past the window is QUIT by its timer in a process that runs', async () => {
    const sender = await warmSender({ SMTP_KEEPALIVE_SECONDS: '1' });
    await sender.batch();
    expect(world.smtp.openConnections).toBe(1);
    // The unref'd idle timer QUITs it after 1 s: an event to wait for, not a sleep.
    await world.smtp.waitForOpenConnections(0);
    expect(world.smtp.stats.commands.QUIT).toBe(1);
    await sender.batch();
    expect(world.smtp.messages).toHaveLength(6);
    expect(world.smtp.stats.connections).toBe(2);
  });

  it('the server dropped the idle session: the next batch reconnects silently, nothing is retried', async () => {
    const logs = world.captureLogs();
    const sender = await warmSender({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    await sender.batch();
    // Exchange drops an idle session (421 4.4.1 Connection timed out) while the sandbox is frozen;
    // the sender only finds out when it writes to it again.
    relay.dropSilently();
    pauseFor(5_000);
    const second = await sender.batch();
    logs.stop();
    expect(lines(logs.lines, 'SMTP session retired')).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/checked with RSET/) }),
    ]);
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(
      ['b1-0', 'b1-1', 'b1-2', 'b2-0', 'b2-1', 'b2-2'].sort(),
    );
    expect(failuresOf(second)).toEqual([]);
    expect(second.flatMap((r) => r.deleted)).toHaveLength(3);
    expect(world.smtp.stats.connections).toBe(2);
    expect(world.smtp.stats.authSuccesses).toBe(2);
  });

  it('an idle session is not cut by the socket timeout: the window decides', async () => {
    const sender = await warmSender({ SMTP_SOCKET_TIMEOUT_MS: '200' });
    await sender.batch();
    // Well past the 200 ms socket timeout the server still holds the one connection.
    await expect(world.smtp.waitForOpenConnections(0, 1_000)).rejects.toThrow(/1 open/);
    await sender.batch();
    expect(world.smtp.stats.connections).toBe(1);
    expect(world.smtp.messages).toHaveLength(6);
  });

  it('SMTP_KEEPALIVE_SECONDS=0: one connection per batch, QUIT at the end of each', async () => {
    const sender = await warmSender({ SMTP_KEEPALIVE_SECONDS: '0' });
    await sender.batch();
    await sender.batch();
    const batches = sender.reports.length;
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(world.smtp.stats.connections).toBe(batches);
    expect(world.smtp.stats.authSuccesses).toBe(batches);
    expect(world.smtp.stats.commands.QUIT).toBe(batches);
    expect(world.smtp.messages).toHaveLength(6);
  });

  it('a configuration error stops its own batch only: the next batch tries again on a new session', async () => {
    const sender = await warmSender();
    // Every MAIL of the batch gets it (its messages may all be on the wire before the answer).
    world.smtp.failNext(
      'mail',
      '451 5.7.3 STARTTLS is required to send mail [PA7P264CA0250.FRAP264.PROD.OUTLOOK.COM]',
      3,
    );
    const first = await sender.batch();
    expect(world.smtp.messages).toHaveLength(0);
    expect(failuresOf(first)).toHaveLength(3);
    world.smtp.faults.clear(); // fixed; a MAIL the stopped batch never sent left one unused
    const second = await sender.batch();
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(['b2-0', 'b2-1', 'b2-2']);
    expect(failuresOf(second)).toEqual([]);
    // The connection the error came from is not kept.
    expect(world.smtp.stats.connections).toBe(2);
  });
});

describe('the mailbox connection limit', () => {
  it('a 432 on connect (too many connections) retries the batch after a minute or more; the next batch connects', async () => {
    const logs = world.captureLogs();
    const sender = await warmSender({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    world.smtp.failNext('connect', '432 4.3.2 Concurrent connections limit exceeded');
    const first = await sender.batch();
    const second = await sender.batch();
    logs.stop();
    expect(failuresOf(first)).toHaveLength(3);
    const retries = lines(logs.lines, 'will retry');
    expect(retries).toHaveLength(3);
    for (const line of retries) expect(line.delaySeconds).toBeGreaterThanOrEqual(60);
    expect(failuresOf(second)).toEqual([]);
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(['b2-0', 'b2-1', 'b2-2']);
  });
});

describe('an idle kept session and the process around it', () => {
  it('does not keep a process alive that has nothing else to do (npm run demo, scripts)', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const sender = fileURLToPath(new URL('../../functions/sender.ts', import.meta.url));
    // One invocation in a fresh process, then nothing: the process must end on its own while the
    // 60 s keep-alive window is far from over. A hang fails the test by its timeout.
    const script = `
      const { handler } = await import(${JSON.stringify(sender)});
      const record = {
        messageId: 'm-1', receiptHandle: 'r-1', body: process.env.BODY, md5OfBody: '',
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
        messageAttributes: {}, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:mail', awsRegion: 'us-east-1',
      };
      const result = await handler({ Records: [record] }, { getRemainingTimeInMillis: () => 60000 });
      console.log(JSON.stringify(result));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        ...process.env,
        ...world.env(queueUrl, dlqUrl, { SMTP_KEEPALIVE_SECONDS: '60' }),
        BODY: JSON.stringify(mail('from a script')),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill();
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('{"batchItemFailures":[]}');
    expect(world.smtp.messages.map((m) => m.subject)).toEqual(['from a script']);
    expect(world.smtp.stats.connections).toBe(1);
  });
});

function lines(all: LogLine[], message: string): LogLine[] {
  return all.filter((l) => l.message === message);
}
