/**
 * `MailSender` in the TypeScript app `cdk init app --language typescript` makes, as a user adds it:
 * one import and the construct in the generated stack; `cdk synth` as the template runs it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  CDK_CLI,
  expectPrebuiltSender,
  NOT_NEEDED,
  SENDER_PROPS,
  synth,
} from './cdk-app-checks.ts';
import {
  consumerEnv,
  expectSuccess,
  freshProject,
  npmInstall,
  recordFigure,
  run,
  tarball,
} from './package-fixture.ts';

describe('MailSender in the app `cdk init app --language typescript` makes', () => {
  it('synthesizes offline with the prebuilt sender', async () => {
    // `cdk init` wants an empty folder.
    const project = freshProject('cdk-init-app');
    const env = consumerEnv(22, { npm_config_prefer_offline: 'true' });
    const init = expectSuccess(
      await run(
        'npx',
        ['--yes', CDK_CLI, 'init', 'app', '--language', 'typescript', '--generate-only'],
        { cwd: project, env },
      ),
      'cdk init',
    );
    recordFigure('cdk init app: npx aws-cdk init', `${init.seconds.toFixed(0)} s`);
    const stackFile = join(project, 'lib', 'cdk-init-app-stack.ts');
    const generated = readFileSync(stackFile, 'utf8');
    // The user's edit: one import and the construct inside the generated stack.
    writeFileSync(
      stackFile,
      `import { MailSender } from 'o365-mail-queue/cdk';\n${generated.replace(
        '// The code that defines your stack goes here',
        `const mail = new MailSender(this, 'Mail', ${SENDER_PROPS});\n    new cdk.CfnOutput(this, 'MailQueueUrl', { value: mail.queue.queueUrl });`,
      )}`,
    );
    const installed = await npmInstall(project, [tarball()], env);
    recordFigure(
      'cdk init app: npm install (template + package)',
      `${installed.seconds.toFixed(0)} s`,
    );

    await synth(project, 'cdk init app (tsc + tsx)');

    // tsx, which the template runs the app with, brings its own esbuild: the trap on PATH and the
    // staged bytes show it is not used for the sender.
    expectPrebuiltSender(project, 'CdkInitAppStack', NOT_NEEDED);
  });
});
