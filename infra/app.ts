/**
 * The CDK app (`cdk.json` runs `node infra/app.ts`): reads and validates the deployment settings,
 * builds the stack, and runs the cdk-nag AwsSolutions checks on everything (violations fail synth).
 */
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MailQueueStack } from './mail-queue-stack.ts';
import { loadStackSettings, StackSettingsError } from './stack-settings.ts';
import { MailSenderPropsError } from './validate-mail-sender-props.ts';

const app = new App();
try {
  const { settings, source, configFile } = loadStackSettings((key) => app.node.tryGetContext(key));
  const env =
    settings.account || settings.region
      ? { account: settings.account, region: settings.region }
      : undefined;
  const stack = new MailQueueStack(app, settings.stackName, {
    settings,
    env,
    description:
      'o365-mail-queue: SQS mail queue and a Lambda that sends it through Microsoft 365 SMTP',
  });
  if (source === 'example') {
    Annotations.of(stack).addWarningV2(
      'o365-mail-queue:example-settings',
      `No settings given: using the placeholders in ${configFile}. Before deploying, pass -c configFile=<your file> or -c sender=... -c tenantId=... -c clientId=...`,
    );
  }
  // Acknowledged findings are also written into the template's Metadata (cdk_nag), with reasons.
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
  );
} catch (error) {
  if (error instanceof StackSettingsError || error instanceof MailSenderPropsError) {
    console.error(`\n${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
