/**
 * Configuration errors end to end: the sender itself is broken, so nothing is sent, every message
 * stays on the queue (retried later, not dead-lettered), and ONE error line says what to fix.
 * Also: no credential ever crosses a connection without TLS, and the handler's event guard.
 */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import {
  DISABLED_MAILBOX,
  mail,
  SENDER,
  type SenderWorld,
  startSenderWorld,
} from './sender-world.ts';

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

/** Runs three messages through a handler loaded with `overrides`; returns what happened. */
async function runBroken(
  overrides: Record<string, string | undefined>,
  smtp: Office365Smtp = world.smtp,
) {
  const { queueUrl, dlqUrl } = await world.queues();
  const env = world.env(queueUrl, dlqUrl, { POWERTOOLS_LOG_LEVEL: 'INFO', ...overrides });
  const handler = await world.loadHandler(env);
  const ids = await world.enqueue(queueUrl, [mail('one'), mail('two'), mail('three')]);
  const source = world.eventSource(handler, queueUrl);
  const logs = world.captureLogs();
  try {
    await source.runUntilIdle();
  } finally {
    logs.stop();
  }
  return { ids, source, logs: logs.lines, dlq: await world.receiveAll(dlqUrl), smtp };
}

function expectAllRetriedOnce(run: Awaited<ReturnType<typeof runBroken>>) {
  expect(run.smtp.messages).toHaveLength(0);
  expect(run.dlq).toEqual([]);
  // One invocation: the retries wait out a long backoff instead of spinning.
  expect(run.source.reports).toHaveLength(1);
  const failures = run.source.reports[0]!.response?.batchItemFailures.map((f) => f.itemIdentifier);
  expect(failures?.sort()).toEqual([...run.ids].sort());
  const errors = run.logs.filter((l) => l.level === 'ERROR');
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

describe('sender end to end: configuration errors stop the batch', () => {
  it('a refused client secret (AADSTS7000215): nothing sent, all retried, one error with the fix', async () => {
    const run = await runBroken({ O365_CLIENT_SECRET: 'not-the-secret' });
    const error = expectAllRetriedOnce(run);
    expect(error.message).toMatch(/AADSTS7000215|invalid_client/);
    expect(error.message).toMatch(/Likely fix/);
    expect(JSON.stringify(run.logs)).not.toContain('not-the-secret');
    expect(world.tokens.tokenRequests).toBeGreaterThanOrEqual(1);
    expect(run.smtp.stats.authAttempts).toBe(0);
  });

  it('SMTP AUTH disabled on the mailbox (535 5.7.139): a refused AUTH is not repeated per message', async () => {
    const run = await runBroken({
      MAIL_SENDER: DISABLED_MAILBOX,
      MAIL_ALLOWED_FROM: DISABLED_MAILBOX,
    });
    const error = expectAllRetriedOnce(run);
    expect(error.message).toContain('5.7.139');
    expect(error.message).toMatch(/Likely fix/);
    // The session tries once more with a renewed token (the first may have been stale), then
    // stops: three messages do not mean three more refused logins.
    expect(run.smtp.stats.authAttempts).toBeLessThanOrEqual(2);
    expect(run.smtp.stats.authSuccesses).toBe(0);
  });

  it('a server that offers no STARTTLS gets no AUTH and no mail: credentials never go in the clear', async () => {
    const plain = await startOffice365Smtp({ tokenEndpoint: world.tokens, startTls: false });
    try {
      const run = await runBroken({ SMTP_PORT: String(plain.port) }, plain);
      const error = expectAllRetriedOnce(run);
      expect(error.message).toMatch(/STARTTLS|TLS/);
      expect(plain.stats.connections).toBe(1);
      expect(plain.stats.insecureAuthAttempts).toBe(0);
      expect(plain.stats.authAttempts).toBe(0);
      expect(plain.stats.commands.AUTH ?? 0).toBe(0);
      expect(plain.stats.commands.MAIL ?? 0).toBe(0);
    } finally {
      await plain.stop();
    }
  });

  it('an invalid configuration (no MAIL_DLQ_URL): every record retried, one error naming the variable', async () => {
    const run = await runBroken({ MAIL_DLQ_URL: undefined });
    const error = expectAllRetriedOnce(run);
    expect(error.message).toContain('MAIL_DLQ_URL');
    expect(world.tokens.tokenRequests).toBe(0);
    expect(run.smtp.stats.connections).toBe(0);
  });
});

describe('sender end to end: configuration is read on the first invocation', () => {
  it('does not keep a failed configuration: once fixed, the next invocation sends', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(
      world.env(queueUrl, dlqUrl, { MAIL_DLQ_URL: undefined }),
    );
    await world.enqueue(queueUrl, [mail('held'), mail('also held')]);
    const source = world.eventSource(handler, queueUrl);
    await source.runUntilIdle();
    expect(world.smtp.messages).toHaveLength(0);

    process.env.MAIL_DLQ_URL = dlqUrl; // the operator fixes the function's configuration
    for (const record of source.reports.flatMap((r) => r.records)) {
      await world.sqs.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    await source.runUntilIdle();
    expect(world.smtp.messages.map((m) => m.subject).sort()).toEqual(['also held', 'held']);
  });
});

describe('sender handler contract', () => {
  it('throws on an event without Records (a wrong trigger is a bug, not a batch)', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    await expect(handler({} as never, {} as Context)).rejects.toThrow(/Records/);
  });

  it('answers an empty batch with no failures and opens no connection', async () => {
    const { queueUrl, dlqUrl } = await world.queues();
    const handler = await world.loadHandler(world.env(queueUrl, dlqUrl));
    const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
    await expect(handler({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] });
    expect(world.smtp.stats.connections).toBe(0);
    expect(SENDER).toBe('mailer@contoso.com');
  });
});
