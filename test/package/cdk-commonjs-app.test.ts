/** `MailSender` in a plain CommonJS CDK app: `require`, no TypeScript, `node app.js`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  CDK_CLI,
  expectPrebuiltSender,
  NOT_NEEDED,
  SENDER_PROPS,
  synth,
} from './cdk-app-checks.ts';
import { consumerEnv, freshProject, npmInstall, tarball } from './package-fixture.ts';

describe('MailSender in a plain CommonJS CDK app', () => {
  it('synthesizes offline with the prebuilt sender', async () => {
    const project = freshProject('cdk-commonjs-app', { version: '1.0.0' });
    writeFileSync(join(project, 'cdk.json'), `${JSON.stringify({ app: 'node app.js' })}\n`);
    writeFileSync(
      join(project, 'app.js'),
      `const { App, CfnOutput, Stack } = require('aws-cdk-lib');
const { MailSender } = require('o365-mail-queue/cdk');

const app = new App();
const stack = new Stack(app, 'MailStack');
const mail = new MailSender(stack, 'Mail', ${SENDER_PROPS});
new CfnOutput(stack, 'MailQueueUrl', { value: mail.queue.queueUrl });
`,
    );
    await npmInstall(project, [tarball(), 'aws-cdk-lib', 'constructs', CDK_CLI], consumerEnv(22));

    await synth(project, 'plain CommonJS app');

    expectPrebuiltSender(project, 'MailStack', [...NOT_NEEDED, 'esbuild']);
  });
});
