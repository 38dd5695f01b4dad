import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { MailQueueStack } from '../../infra/mail-queue-stack.ts';
import { parseStackSettings } from '../../infra/stack-settings.ts';
import {
  CLIENT_ID,
  newApp,
  policyOf,
  SECRET_ARN,
  TENANT_ID,
  withoutAwsCredentials,
} from './infra-fixtures.ts';

const baseSettings = { sender: 'mail@contoso.com', tenantId: TENANT_ID, clientId: CLIENT_ID };

function synthStack(raw: Record<string, unknown>) {
  const app = newApp();
  const stack = new MailQueueStack(app, 'MailQueue', { settings: parseStackSettings(raw) });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The AwsSolutions findings left after the acknowledgements, as `rule: resource` lines. */
function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath ?? r.resourceLogicalId}`),
  );
}

describe('MailQueueStack', () => {
  beforeAll(() => withoutAwsCredentials());

  it('outputs what deployers and producers need', () => {
    const { stack, template } = synthStack(baseSettings);
    const { queue, deadLetterQueue, alarmTopic, secret } = stack.mailSender;
    const outputs = template.findOutputs('*');
    expect(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.Value]))).toEqual({
      QueueUrl: stack.resolve(queue.queueUrl),
      QueueArn: stack.resolve(queue.queueArn),
      DeadLetterQueueUrl: stack.resolve(deadLetterQueue.queueUrl),
      AlarmTopicArn: stack.resolve(alarmTopic.topicArn),
      SecretArn: stack.resolve(secret?.secretArn),
      DashboardName: stack.resolve(stack.mailSender.monitoring.dashboard.dashboardName),
    });
  });

  it('passes settings through to the construct', () => {
    const { template } = synthStack({
      ...baseSettings,
      maxConcurrency: '4',
      batchSize: '5',
      maxReceiveCount: '3',
      maxBatchingWindowSeconds: '20',
      oldestMessageAgeMinutes: '10',
      smtpHost: 'smtp.contoso.com',
      alarmEmail: 'ops@contoso.com',
      serviceName: 'billing-mail',
      smtpKeepAliveSeconds: '0',
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SMTP_HOST: 'smtp.contoso.com',
          POWERTOOLS_SERVICE_NAME: 'billing-mail',
          // 0 is a setting (QUIT after every batch), not an absent one.
          SMTP_KEEPALIVE_SECONDS: '0',
        }),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConfigErrors',
      Dimensions: [{ Name: 'service', Value: 'billing-mail' }],
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Endpoint: 'ops@contoso.com' });
  });

  it('has no daily report job unless asked', () => {
    const { template } = synthStack(baseSettings);
    // The one rule is the circuit breaker's probe.
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });
});

describe('MailQueueStack with the daily report job', () => {
  let synth: ReturnType<typeof synthStack>;

  beforeAll(() => {
    withoutAwsCredentials();
    // Not bundled here: app-synth.test.ts bundles both functions through the real CLI.
    synth = synthStack({
      ...baseSettings,
      dailyReport: 'true',
      reportTo: 'reports@contoso.com,cfo@contoso.com',
    });
  });

  it('runs it on the schedule, 06:00 UTC by default, with few retries', () => {
    const { stack, template } = synth;
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: stack.resolve(stack.dailyReport?.fn.functionArn),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          MAIL_QUEUE_URL: stack.resolve(stack.mailSender.queue.queueUrl),
          REPORT_TO: 'reports@contoso.com,cfo@contoso.com',
          // The report reads the sender's metrics under the sender's own service name.
          MAIL_SENDER_SERVICE_NAME: stack.mailSender.serviceName,
        }),
      },
    });
  });

  it('lets the job send to the queue and read the metrics, nothing more', () => {
    const { stack, template } = synth;
    expect(policyOf(template, stack, stack.dailyReport?.fn.role)).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: stack.resolve(stack.mailSender.queue.queueArn),
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DailyReportLogGroup/), 'Arn'] },
      },
      {
        Sid: 'ReadSenderMetrics',
        Effect: 'Allow',
        Action: 'cloudwatch:GetMetricData',
        Resource: '*',
      },
    ]);
  });

  it('is clean under cdk-nag AwsSolutions, every acknowledgement with a reason', () => {
    expect(nagFindings(synth.app)).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions on other shapes of the stack', () => {
  beforeAll(() => withoutAwsCredentials());

  it.each([
    [
      'FIFO, imported secret, alarm e-mail, attachment bucket',
      {
        fifo: 'true',
        secretArn: SECRET_ARN,
        alarmEmail: 'ops@contoso.com',
        attachmentBuckets: 'reports-out',
      },
    ],
    [
      'password auth with an environment',
      { smtpAuth: 'password', account: '123456789012', region: 'eu-west-1' },
    ],
    [
      'no auth (other SMTP server)',
      { smtpAuth: 'none', smtpHost: 'mail.internal.contoso.com', smtpPort: '25' },
    ],
  ])('%s: no finding', (_name, extra) => {
    const { app } = synthStack({ ...baseSettings, ...extra });
    expect(nagFindings(app)).toEqual([]);
  });

  it('still finds what is not acknowledged (the check is live)', async () => {
    const { Queue } = await import('aws-cdk-lib/aws-sqs');
    const { app, stack } = synthStack(baseSettings);
    new Queue(stack, 'Unsafe');
    expect(nagFindings(app)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SQS3: MailQueue\/Unsafe/)]),
    );
  });
});
