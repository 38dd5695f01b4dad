/**
 * A service that installs only the package (`npm install o365-mail-queue`): plain JavaScript that
 * imports and requires the producer on Node 20, 22 and 24 and puts a message on a real queue, the
 * size of that install, and the `o365-mail` command line run through npx.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import {
  consumerEnv,
  diskKiB,
  expectSuccess,
  freshProject,
  type NodeMajor,
  npmInstall,
  recordFigure,
  run,
  tarball,
} from './package-fixture.ts';

/** What a producer needs, and only that: nothing of the sender, the CLI or CDK. */
const PRODUCER_PACKAGES = [
  '@aws',
  '@aws-sdk',
  '@smithy',
  'bowser',
  'o365-mail-queue',
  'tslib',
  'zod',
];
const NODES: NodeMajor[] = [20, 22, 24];
const SENDER = 'noreply@contoso.com';

/** Every public export a producer uses, from every entry, checked the same way for import and require. */
const CHECKS = `
  const errors = [root.InvalidMailMessageError, producer.InvalidMailMessageError, message.InvalidMailMessageError];
  const out = {
    node: process.version,
    sameClasses: new Set(errors).size === 1 && root.MailQueue === producer.MailQueue &&
      root.QueueSendError === producer.QueueSendError && root.parseMailMessage === message.parseMailMessage,
    producerErrors: ['MailQueueError', 'InvalidMailMessageError', 'InvalidSendOptionsError', 'QueueSendError']
      .filter((name) => typeof producer[name] !== 'function'),
    messageErrors: ['MailQueueError', 'InvalidMailMessageError'].filter((name) => typeof message[name] !== 'function'),
  };
  try {
    root.parseMailMessage({ to: ['not an address'], text: 'x' });
  } catch (error) {
    out.invalid = { isInvalid: error instanceof message.InvalidMailMessageError, paths: error.issues.map((i) => i.path) };
  }
  const queue = new root.MailQueue({ queueUrl: process.env.QUEUE_URL });
  out.sent = await queue.send({ id: process.env.MAIL_ID, to: ['ann@example.com'], subject: 'From ' + process.env.MAIL_ID, text: 'Hi' });
  console.log(JSON.stringify(out));
`;

const ESM = `
import * as root from 'o365-mail-queue';
import * as producer from 'o365-mail-queue/producer';
import * as message from 'o365-mail-queue/message';
${CHECKS}`;

const CJS = `
const root = require('o365-mail-queue');
const producer = require('o365-mail-queue/producer');
const message = require('o365-mail-queue/message');
(async () => {
${CHECKS}
})().catch((error) => { console.error(error); process.exit(1); });`;

let project: string;
let sqs: SqsEmulator;

beforeAll(async () => {
  project = freshProject('producer-app', { version: '1.0.0' });
  writeFileSync(join(project, 'producer.mjs'), ESM);
  writeFileSync(join(project, 'producer.cjs'), CJS);
  const installed = await npmInstall(project, [tarball()], consumerEnv(20));
  recordFigure('producer install (npm install, Node 20)', `${installed.seconds.toFixed(0)} s`);
  sqs = await startSqsEmulator();
});
afterAll(async () => {
  await sqs?.stop();
});

describe('the package in a plain JavaScript service', () => {
  it('installs for a producer in under 30 MB, with nothing the sender, the CLI or CDK need', () => {
    const modules = join(project, 'node_modules');
    const topLevel = readdirSync(modules).filter((name) => !name.startsWith('.'));
    const kib = diskKiB(modules);
    recordFigure('producer-only node_modules', `${(kib / 1024).toFixed(1)} MiB on disk`);

    expect(topLevel.sort()).toEqual(PRODUCER_PACKAGES);
    expect(kib).toBeLessThan(30 * 1024);
  });

  it.each(NODES)(
    'Node %i: import and require every entry, errors included, and send to a real queue',
    async (major) => {
      const queueUrl = await sqs.createQueue(`producer-node${major}`);
      for (const [file, kind] of [
        ['producer.mjs', 'esm'],
        ['producer.cjs', 'cjs'],
      ] as const) {
        const mailId = `node${major}-${kind}`;
        const env = consumerEnv(major, {
          QUEUE_URL: queueUrl,
          MAIL_ID: mailId,
          AWS_REGION: sqs.region,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        });
        const result = expectSuccess(
          await run('node', [file], { cwd: project, env }),
          `${file} on Node ${major}`,
        );
        expect(JSON.parse(result.stdout)).toMatchObject({
          node: expect.stringMatching(new RegExp(`^v${major}\\.`)),
          sameClasses: true,
          producerErrors: [],
          messageErrors: [],
          invalid: { isInvalid: true, paths: ['to[0]', 'subject'] },
          sent: expect.any(String),
        });
      }
      const { Messages = [] } = await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
      );
      const ids = Messages.map((m) => JSON.parse(m.Body ?? '{}').id).sort();
      expect(ids).toEqual([`node${major}-cjs`, `node${major}-esm`]);
    },
  );
});

describe('npx o365-mail in that service', () => {
  let tokens: TokenEndpoint;
  let smtp: Office365Smtp;

  beforeAll(async () => {
    tokens = await startTokenEndpoint();
    smtp = await startOffice365Smtp({ tokenEndpoint: tokens, mailboxes: { [SENDER]: {} } });
  });
  afterAll(async () => {
    await smtp?.stop();
    await tokens?.stop();
  });

  const cli = (major: NodeMajor, args: string[], extra: Record<string, string> = {}) =>
    run('npx', ['o365-mail', ...args], { cwd: project, env: consumerEnv(major, extra) });

  it.each(NODES)('Node %i: --help and --version', async (major) => {
    const help = expectSuccess(await cli(major, ['--help']), 'o365-mail --help');
    const version = expectSuccess(await cli(major, ['--version']), 'o365-mail --version');

    for (const command of ['send', 'dlq', 'stats', 'doctor'])
      expect(help.stdout).toContain(command);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('Node 20: send, stats, dlq list and dlq show by the id send printed', async () => {
    const { queueUrl, dlqUrl } = await sqs.createQueueWithDlq('cli');
    const target = ['--queue-url', queueUrl, '--dlq-url', dlqUrl];

    const sent = expectSuccess(
      await cli(20, [
        'send',
        ...target,
        '--to',
        'ann@example.com',
        '--subject',
        'Hi',
        '--text',
        'x',
      ]),
      'o365-mail send',
    );
    const mailId = sent.stdout.trim();
    // What the sender would do with a message it cannot send: move it to the DLQ, with the reason.
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl }),
    );
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: Messages[0]?.Body,
        MessageAttributes: {
          FailureClass: { DataType: 'String', StringValue: 'rejected' },
          FailureReason: { DataType: 'String', StringValue: '550 5.1.10 Recipient not found' },
          FailureAt: { DataType: 'String', StringValue: new Date().toISOString() },
        },
      }),
    );
    const stats = expectSuccess(await cli(20, ['stats', ...target, '--json']), 'o365-mail stats');
    const list = expectSuccess(await cli(20, ['dlq', 'list', ...target, '--json']), 'dlq list');
    const show = expectSuccess(
      await cli(20, ['dlq', 'show', mailId, ...target, '--json']),
      'dlq show',
    );

    expect(mailId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(stats.stdout)).toMatchObject({ dlq: { visible: 1 } });
    expect(JSON.parse(list.stdout)).toMatchObject({ count: 1, deadLetters: [{ subject: 'Hi' }] });
    expect(JSON.parse(show.stdout)).toMatchObject({
      found: true,
      mailId,
      failureClass: 'rejected',
    });
  });

  it('Node 20: doctor checks the whole path to an Office 365 look-alike and sends a test mail', async () => {
    const doctor = await cli(20, ['doctor', '--send-test', 'ann@example.com'], {
      MAIL_SENDER: SENDER,
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.port),
      O365_TENANT_ID: tokens.tenantId,
      O365_CLIENT_ID: 'test-client',
      O365_CLIENT_SECRET: 'test-secret',
      O365_AUTHORITY_HOST: tokens.authorityHost,
    });

    expectSuccess(doctor, 'o365-mail doctor');
    expect(doctor.stdout).toContain('Every step passed');
    expect(smtp.messages.map((m) => m.envelope.to)).toEqual([['ann@example.com']]);
  });
});
