/**
 * Whether a failed send is worth another attempt, with a real SDK client: one that cannot work as
 * configured, and one whose connection is refused.
 */
import { createServer } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueSendError } from '../../lib/errors.ts';
import { MailQueue } from '../../lib/producer/mail-queue.ts';

const mail = { to: ['a@example.com'], subject: 'Hi', text: 'x' };
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const saved = { ...process.env };

afterEach(() => {
  process.env = { ...saved };
});

/** A port on 127.0.0.1 that nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('QueueSendError.retryable', () => {
  it('is false when the client has no region: a configuration error that no retry mends', async () => {
    for (const key of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[key];
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    const queue = new MailQueue({
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail',
      client: new SQSClient({ credentials }),
    });

    const error = await queue.send(mail).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/Region is missing/),
    });
  });

  it('is true when the connection is refused: the queue may be reachable later', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const queue = new MailQueue({
      queueUrl: `${endpoint}/000000000000/mail`,
      client: new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    });

    const error = await queue.send(mail).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'QueueSendError', code: 'ECONNREFUSED', retryable: true });
  });
});
