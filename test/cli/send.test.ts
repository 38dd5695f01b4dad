import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import { runCli } from './run-cli.ts';

let sqs: SqsEmulator;
let queueUrl: string;
let dir: string;

async function receiveOne() {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
  );
  expect(Messages).toHaveLength(1);
  return { messageId: Messages[0]!.MessageId!, body: JSON.parse(Messages[0]!.Body!) };
}

beforeAll(async () => {
  sqs = await startSqsEmulator();
  ({ queueUrl } = await sqs.createQueueWithDlq('send-mail'));
  dir = await mkdtemp(join(tmpdir(), 'o365-send-'));
});
afterAll(async () => {
  await sqs?.stop();
});

describe('o365-mail send', () => {
  it('enqueues a message built from flags, with an attachment, and prints its mail id', async () => {
    const csv = join(dir, 'report.csv');
    writeFileSync(csv, 'day,sent\nmon,12\n');

    const run = await runCli([
      'send',
      '--queue-url',
      queueUrl,
      '--to',
      'ann@example.com',
      '--to',
      'Bob <bob@example.com>',
      '--subject',
      'Weekly report',
      '--text',
      'See attached',
      '--attach',
      csv,
      '--id',
      'report-2026-47',
    ]);

    expect(run.code).toBe(0);
    const { body } = await receiveOne();
    // The mail id, which `dlq show`, `npm start` and the sender's logs know the message by.
    expect(run.stdout.trim()).toBe('report-2026-47');
    expect(body).toMatchObject({
      id: 'report-2026-47',
      subject: 'Weekly report',
      to: ['ann@example.com', 'Bob <bob@example.com>'],
      attachments: [{ filename: 'report.csv', contentType: 'text/csv' }],
    });
    expect(Buffer.from(body.attachments[0].content, 'base64').toString()).toBe(
      'day,sent\nmon,12\n',
    );
  });

  it('prints the id it gave a message sent without --id', async () => {
    const run = await runCli([
      'send',
      '--queue-url',
      queueUrl,
      '--to',
      'a@example.com',
      '--subject',
      'No id',
      '--text',
      'x',
    ]);

    expect(run.code).toBe(0);
    const { body } = await receiveOne();
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.stdout.trim()).toBe(body.id);
  });

  it('enqueues a message from --file, flags overriding its fields, and answers --json', async () => {
    const file = join(dir, 'message.json');
    writeFileSync(
      file,
      JSON.stringify({ to: ['ann@example.com'], subject: 'From file', html: '<p>Hi</p>' }),
    );

    const run = await runCli([
      'send',
      '--file',
      file,
      '--subject',
      'Overridden',
      '--json',
      '--queue-url',
      queueUrl,
    ]);

    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout);
    const { messageId, body } = await receiveOne();
    expect(printed).toMatchObject({ messageId, queueUrl, id: body.id });
    expect(body).toMatchObject({ subject: 'Overridden', html: '<p>Hi</p>' });
  });

  it('refuses an invalid message naming each field, sends nothing, exits 1', async () => {
    const run = await runCli([
      'send',
      '--queue-url',
      queueUrl,
      '--to',
      'not-an-address',
      '--subject',
      'Hi',
    ]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The message is invalid (nothing was sent)');
    expect(run.stderr).toContain('to[0] is not a valid email address');
    expect(run.stderr).toMatch(/text is missing/);
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl }),
    );
    expect(Messages).toHaveLength(0);
  });

  it('reports invalid JSON in --file and an out-of-range --delay as usage errors (exit 2)', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"to": [');

    const broken = await runCli(['send', '--file', file, '--queue-url', queueUrl]);
    const delay = await runCli([
      'send',
      '--delay',
      '901',
      '--to',
      'a@example.com',
      '--queue-url',
      queueUrl,
    ]);

    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('is not JSON');
    expect(delay.code).toBe(2);
    expect(delay.stderr).toContain('0 to 900');
  });
});
