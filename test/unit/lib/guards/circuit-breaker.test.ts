import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakerFromEnv } from '../../../../lib/guards/breaker/breaker-from-env.ts';
import { queueNameOf } from '../../../../lib/guards/breaker/breaker-state.ts';
import { CircuitBreaker, pausedMessage } from '../../../../lib/guards/breaker/circuit-breaker.ts';
import {
  type ConsumptionSwitch,
  EventSourceMappingSwitch,
  type SwitchResult,
} from '../../../../lib/guards/breaker/event-source-mapping-switch.ts';
import { FileBreakerStore } from '../../../../lib/guards/breaker/file-breaker-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'breaker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
let clock = 0;

/** Records what the breaker asked the consumer to do. */
function recordingSwitch(result: SwitchResult = { ok: true, mappings: ['m-1'] }) {
  const calls: string[] = [];
  const consumer: ConsumptionSwitch = {
    pause: async () => {
      calls.push('pause');
      return result;
    },
    resume: async () => {
      calls.push('resume');
      return result;
    },
  };
  return { calls, consumer };
}

function breaker(outageMs = 60_000, consumer?: ConsumptionSwitch) {
  const store = new FileBreakerStore(join(dir, `breaker-${++fileNo}.json`));
  return { store, breaker: new CircuitBreaker({ store, consumer, outageMs, now: () => clock }) };
}

const CONFIG = {
  kind: 'config',
  reason: '535 5.7.139 SMTP AUTH disabled',
  fix: 'enable it',
} as const;
const down = (failingForMs: number) =>
  ({ kind: 'unreachable', reason: 'ECONNECTION: connect ECONNREFUSED', failingForMs }) as const;

beforeEach(() => {
  clock = 1_000_000;
});

describe('CircuitBreaker', () => {
  it('pauses on the first configuration error, switches the consumer off and keeps the reason and fix', async () => {
    const { calls, consumer } = recordingSwitch();
    const { breaker: b } = breaker(60_000, consumer);
    expect(await b.afterBatch(CONFIG)).toEqual({
      paused: true,
      first: true,
      why: { cause: 'config', reason: CONFIG.reason, fix: CONFIG.fix },
      switched: { ok: true, mappings: ['m-1'] },
    });
    expect(await b.state()).toEqual({
      paused: true,
      cause: 'config',
      reason: CONFIG.reason,
      fix: CONFIG.fix,
      since: clock,
    });
    expect(calls).toEqual(['pause']);
  });

  it('tells only the first of several sandboxes that it paused', async () => {
    const { store, breaker: first } = breaker();
    const second = new CircuitBreaker({ store, outageMs: 60_000, now: () => clock });
    expect(await first.afterBatch(CONFIG)).toMatchObject({ paused: true, first: true });
    expect(await second.afterBatch(CONFIG)).toMatchObject({ paused: true, first: false });
  });

  it('pauses for an outage once batches a quarter of the threshold apart cannot get out messages first tried the threshold ago', async () => {
    const { breaker: b } = breaker(60_000);
    expect(await b.afterBatch(down(59_000))).toEqual({ paused: false });
    clock += 15_000;
    expect(await b.afterBatch(down(59_999))).toEqual({ paused: false });
    clock += 15_000;
    const outcome = await b.afterBatch(down(60_000));
    expect(outcome).toMatchObject({ paused: true, first: true, why: { cause: 'outage' } });
    expect(outcome.paused && outcome.why.reason).toBe(
      'messages first tried 60 s ago still cannot be sent: the SMTP server or the token endpoint cannot be reached (last: ECONNECTION: connect ECONNREFUSED)',
    );
  });

  it('never pauses for a blip of seconds, nor when a batch in between sent', async () => {
    const { breaker: b } = breaker(60_000);
    // A token endpoint's 503 that MSAL holds for a few seconds: old messages, many batches, no span.
    for (let i = 0; i < 5; i++) {
      clock += 1_000;
      expect(await b.afterBatch(down(600_000))).toEqual({ paused: false });
    }
    clock += 15_000;
    expect(await b.afterBatch({ kind: 'healthy' })).toEqual({ paused: false });
    expect(await b.afterBatch(down(600_000))).toEqual({ paused: false });
    clock += 15_000;
    // Neither sent nor unreachable (rate-limited, invalid mail): the run goes on.
    expect(await b.afterBatch({ kind: 'neutral' })).toEqual({ paused: false });
    expect(await b.afterBatch(down(600_000))).toMatchObject({ paused: true });
  });

  it('starts a new run after a gap of five thresholds (a sandbox frozen meanwhile)', async () => {
    const { breaker: b } = breaker(60_000);
    expect(await b.afterBatch(down(600_000))).toEqual({ paused: false });
    clock += 300_001;
    expect(await b.afterBatch(down(900_000))).toEqual({ paused: false });
    clock += 15_000;
    expect(await b.afterBatch(down(915_000))).toMatchObject({ paused: true });
  });

  it('never pauses for an outage with a threshold of 0', async () => {
    const { breaker: b } = breaker(0);
    for (let i = 0; i < 10; i++) {
      clock += 60_000;
      expect(await b.afterBatch(down(3_600_000))).toEqual({ paused: false });
    }
  });

  it('resumes: consumer on first, then the store, which remembers when', async () => {
    const { calls, consumer } = recordingSwitch();
    const { breaker: b } = breaker(60_000, consumer);
    await b.afterBatch(CONFIG);
    clock += 5_000;
    expect(await b.resume()).toEqual({ resumed: true, switched: { ok: true, mappings: ['m-1'] } });
    expect(await b.state()).toEqual({ paused: false, resumedAt: clock });
    expect(calls).toEqual(['pause', 'resume']);
    expect((await b.resume()).resumed).toBe(false);
  });

  it('stays paused when the consumer cannot be switched back on, so the next probe tries again', async () => {
    const failed = {
      ok: false,
      error: 'AccessDeniedException: lambda:UpdateEventSourceMapping',
    } as const;
    const { calls, consumer } = recordingSwitch(failed);
    const { breaker: b } = breaker(60_000, consumer);
    await b.afterBatch(CONFIG);
    expect(await b.resume()).toEqual({ resumed: false, switched: failed });
    expect((await b.state()).paused).toBe(true);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('says paused, why, the fix and how it resumes in one line', () => {
    expect(
      pausedMessage({
        cause: 'config',
        reason: 'Token request refused: expired.',
        fix: 'renew it.',
      }),
    ).toBe(
      'consuming paused (configuration error): Token request refused: expired. Fix: renew it. Messages wait on the queue without spending receives; consuming resumes by itself when the scheduled probe gets through, or at once with `o365-mail resume`.',
    );
  });
});

describe('breakerFromEnv', () => {
  const queue = 'http://127.0.0.1:4566/000000000000/mail';

  it('needs a store and the queue; MAIL_BREAKER=off turns it off', () => {
    const file = join(dir, 'env.json');
    expect(breakerFromEnv({ MAIL_QUEUE_URL: queue })).toEqual({ ok: true });
    expect(breakerFromEnv({ MAIL_BREAKER_FILE: file })).toEqual({ ok: true });
    const on = breakerFromEnv({ MAIL_QUEUE_URL: queue, MAIL_BREAKER_FILE: file });
    expect(on.ok && on.breaker?.outageMs).toBe(60_000);
    const off = breakerFromEnv({
      MAIL_QUEUE_URL: queue,
      MAIL_BREAKER_FILE: file,
      MAIL_BREAKER: 'off',
    });
    expect(off).toEqual({ ok: true });
  });

  it('names the variable of a bad value', () => {
    expect(breakerFromEnv({ MAIL_BREAKER: 'maybe', MAIL_BREAKER_OUTAGE_SECONDS: '-1' })).toEqual({
      ok: false,
      problems: [
        'MAIL_BREAKER must be on or off, got "maybe"',
        'MAIL_BREAKER_OUTAGE_SECONDS must be a whole number ≥ 0, got "-1"',
      ],
    });
  });

  it('keys the state by the queue name', () => {
    expect(queueNameOf('https://sqs.eu-west-1.amazonaws.com/123456789012/mail-queue')).toBe(
      'mail-queue',
    );
    expect(queueNameOf('arn:aws:sqs:eu-west-1:123456789012:mail-queue.fifo')).toBe(
      'mail-queue.fifo',
    );
  });
});

describe('EventSourceMappingSwitch', () => {
  const lambda = mockClient(LambdaClient);
  afterEach(() => lambda.reset());
  const queueArn = 'arn:aws:sqs:eu-west-1:123456789012:mail';

  it("finds the function's mapping of the mail queue once and switches it off and on", async () => {
    lambda
      .on(ListEventSourceMappingsCommand)
      .resolvesOnce({
        EventSourceMappings: [
          { UUID: 'other', EventSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:other' },
        ],
        NextMarker: 'page-2',
      })
      .resolvesOnce({ EventSourceMappings: [{ UUID: 'mine', EventSourceArn: queueArn }] });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const consumer = new EventSourceMappingSwitch({
      functionName: 'mail-sender',
      queueName: 'mail',
      client: new LambdaClient({ region: 'eu-west-1' }),
    });
    expect(await consumer.pause()).toEqual({ ok: true, mappings: ['mine'] });
    expect(await consumer.resume()).toEqual({ ok: true, mappings: ['mine'] });
    expect(lambda.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input)).toEqual(
      [
        { FunctionName: 'mail-sender', EventSourceArn: undefined, Marker: undefined },
        { FunctionName: 'mail-sender', EventSourceArn: undefined, Marker: 'page-2' },
      ],
    );
    expect(
      lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input),
    ).toEqual([
      { UUID: 'mine', Enabled: false },
      { UUID: 'mine', Enabled: true },
    ]);
  });

  it('reports what went wrong instead of throwing', async () => {
    lambda
      .on(ListEventSourceMappingsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const consumer = new EventSourceMappingSwitch({
      queueArn,
      client: new LambdaClient({ region: 'eu-west-1' }),
    });
    expect(await consumer.pause()).toEqual({
      ok: false,
      error: 'AccessDeniedException: not authorized',
    });
    lambda.reset();
    lambda.on(ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
    expect(await consumer.pause()).toEqual({
      ok: false,
      error: `no event source mapping found for queue ${queueArn}`,
    });
  });
});
