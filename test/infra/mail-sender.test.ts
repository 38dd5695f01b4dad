import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { MailSender } from '../../infra/mail-sender.ts';
import { MailSenderPropsError } from '../../infra/mail-sender-props.ts';
import { esbuildOptions, functionEntries } from '../../infra/sender-bundling.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/observability.ts';
import {
  newStack,
  SECRET_ARN,
  senderProps,
  stagedBundleDir,
  withoutAwsCredentials,
} from './infra-fixtures.ts';

/** The statements of the policy attached to `role`, exactly. */
function policyOf(template: Template, stack: Stack, role: unknown) {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [stack.resolve((role as Role).roleName)] },
  });
  expect(Object.keys(policies)).toHaveLength(1);
  return Object.values(policies)[0]?.Properties.PolicyDocument.Statement;
}

describe('MailSender with its defaults', () => {
  let stack: Stack;
  let sender: MailSender;
  let template: Template;
  let producer: Role;

  beforeAll(() => {
    withoutAwsCredentials();
    stack = newStack('Test', { bundle: true });
    sender = new MailSender(stack, 'MailSender', senderProps());
    producer = new Role(stack, 'Producer', { assumedBy: new AccountRootPrincipal() });
    sender.grantSend(producer);
    template = Template.fromStack(stack);
  });

  it('encrypts both queues, refuses non-TLS access and dead-letters after 5 receives', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 345_600,
      VisibilityTimeout: 360,
      RedrivePolicy: {
        deadLetterTargetArn: stack.resolve(sender.deadLetterQueue.queueArn),
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    for (const queue of [sender.queue, sender.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [stack.resolve(queue.queueUrl)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('runs the sender on arm64, Node 24, 256 MB, 60 s, with a visibility timeout of 6 x 60 s', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: stack.resolve(sender.logGroup.logGroupName) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('configures the sender through the SPEC environment, with no secret value in it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          MAIL_QUEUE_URL: stack.resolve(sender.queue.queueUrl),
          MAIL_DLQ_URL: stack.resolve(sender.deadLetterQueue.queueUrl),
          MAIL_SENDER: 'mail@contoso.com',
          MAIL_ALLOWED_FROM: 'mail@contoso.com',
          SMTP_HOST: 'smtp.office365.com',
          SMTP_PORT: '587',
          SMTP_AUTH: 'oauth2',
          O365_TENANT_ID: senderProps().tenantId,
          O365_CLIENT_ID: senderProps().clientId,
          MAIL_SECRET_ARN: stack.resolve(sender.secret?.secretArn),
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('creates an empty secret to fill in after deploy', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: JSON.stringify({ O365_CLIENT_SECRET: '' }),
    });
  });

  it('consumes the queue with partial batch responses, batches of 10 and at most 2 concurrent invocations', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: stack.resolve(sender.queue.queueArn),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('gives the function exactly what it uses: its queue, its DLQ, its secret, its log group', () => {
    expect(policyOf(template, stack, sender.fn.role)).toEqual([
      {
        Sid: 'ConsumeMailQueue',
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        Resource: stack.resolve(sender.queue.queueArn),
      },
      {
        Sid: 'DeadLetter',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: stack.resolve(sender.deadLetterQueue.queueArn),
      },
      {
        Sid: 'ReadCredentials',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: stack.resolve(sender.secret?.secretArn),
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: stack.resolve(sender.logGroup.logGroupArn),
      },
    ]);
    // No AWS-managed policy (AWSLambdaBasicExecutionRole would allow logs on every log group).
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
  });

  it('grantSend gives a producer exactly sqs:SendMessage on the queue', () => {
    expect(policyOf(template, stack, producer)).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: stack.resolve(sender.queue.queueArn),
      },
    ]);
  });

  it('alarms on dead letters, old messages, function errors and configuration errors, to an encrypted topic', () => {
    const topic = stack.resolve(sender.alarmTopic.topicArn);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    const alarm = (namespace: string, metricName: string, threshold: number) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: metricName,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topic],
      });
    alarm('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 1);
    alarm('AWS/SQS', 'ApproximateAgeOfOldestMessage', 1800);
    alarm('AWS/Lambda', 'Errors', 1);
    alarm(METRICS_NAMESPACE, 'ConfigErrors', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConfigErrors',
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('bundles the real sender as an ESM module that loads in plain Node', async () => {
    const dir = stagedBundleDir(sender.fn);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    // The SDK is bundled (pinned), not imported from the Lambda runtime.
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    const loaded = await import(pathToFileURL(join(dir, 'index.mjs')).href);
    expect(typeof loaded.handler).toBe('function');
  });

  it('esbuildOptions (used by the benchmark) rebuild that bundle byte for byte', async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'o365-bundle-')), 'index.mjs');
    await build({ ...esbuildOptions(functionEntries.sender, outfile), logLevel: 'silent' });
    const staged = readFileSync(join(stagedBundleDir(sender.fn), 'index.mjs'));
    expect(readFileSync(outfile).equals(staged)).toBe(true);
  });
});

describe('MailSender variants', () => {
  beforeAll(() => withoutAwsCredentials());

  it('FIFO: both queues are FIFO with content-based deduplication', () => {
    const stack = newStack();
    new MailSender(stack, 'MailSender', senderProps({ fifo: true }));
    const template = Template.fromStack(stack);
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.values(queues).map((q) => q.Properties.FifoQueue)).toEqual([true, true]);
    expect(Object.values(queues).map((q) => q.Properties.ContentBasedDeduplication)).toEqual([
      true,
      true,
    ]);
  });

  it('customer-managed key: queues use it, the function and producers get exactly the KMS calls they need', async () => {
    const { Key } = await import('aws-cdk-lib/aws-kms');
    const stack = newStack();
    const key = new Key(stack, 'QueueKey', { enableKeyRotation: true });
    const sender = new MailSender(stack, 'MailSender', senderProps({ encryptionKey: key }));
    const producer = new Role(stack, 'Producer', { assumedBy: new AccountRootPrincipal() });
    sender.grantSend(producer);
    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: stack.resolve(key.keyArn),
    });
    const kmsStatement = (actions: string[]) => ({
      Effect: 'Allow',
      Action: actions,
      Resource: stack.resolve(key.keyArn),
    });
    expect(policyOf(template, stack, sender.fn.role)).toContainEqual(
      kmsStatement(['kms:Decrypt', 'kms:GenerateDataKey']),
    );
    expect(policyOf(template, stack, producer)).toEqual([
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: stack.resolve(sender.queue.queueArn),
      },
      kmsStatement(['kms:GenerateDataKey', 'kms:Decrypt']),
    ]);
  });

  it('imports an existing secret by ARN instead of creating one', () => {
    const stack = newStack();
    const sender = new MailSender(stack, 'MailSender', senderProps({ secretArn: SECRET_ARN }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(policyOf(template, stack, sender.fn.role)).toContainEqual({
      Sid: 'ReadCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: SECRET_ARN,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAIL_SECRET_ARN: SECRET_ARN }) },
    });
  });

  it('password auth: the created secret holds SMTP_PASSWORD; no auth: no secret and no secret permission', () => {
    const passwordStack = newStack();
    new MailSender(passwordStack, 'MailSender', {
      sender: 'mail@contoso.com',
      smtpAuth: 'password',
    });
    Template.fromStack(passwordStack).hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: JSON.stringify({ SMTP_PASSWORD: '' }),
    });

    const stack = newStack();
    const sender = new MailSender(stack, 'MailSender', {
      sender: 'mail@contoso.com',
      smtpAuth: 'none',
    });
    const template = Template.fromStack(stack);
    expect(sender.secret).toBeUndefined();
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const actions = policyOf(template, stack, sender.fn.role).flatMap(
      (s: { Action: string | string[] }) => s.Action,
    );
    expect(actions.filter((a: string) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('applies tuning props and subscribes the alarm e-mail', () => {
    const stack = newStack();
    new MailSender(
      stack,
      'MailSender',
      senderProps({
        timeout: Duration.seconds(30),
        visibilityTimeout: Duration.minutes(5),
        maxReceiveCount: 3,
        batchSize: 5,
        maxBatchingWindow: Duration.seconds(10),
        maxConcurrency: 3,
        allowedFrom: ['mail@contoso.com', '@reports.contoso.com'],
        alarmEmail: 'ops@contoso.com',
      }),
    );
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 300,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({ MAIL_ALLOWED_FROM: 'mail@contoso.com,@reports.contoso.com' }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@contoso.com',
    });
  });
});

describe('MailSender refuses invalid props', () => {
  beforeAll(() => withoutAwsCredentials());

  it.each([
    [
      'a visibility timeout under 6 x the function timeout',
      { visibilityTimeout: Duration.seconds(359) },
      /visibilityTimeout \(359 s\) must be at least 6 x the function timeout \(360 s\)/,
    ],
    ['a sender that is not an address', { sender: 'mail' }, /sender must be a mailbox address/],
    [
      'oauth2 without tenant and client',
      { tenantId: undefined, clientId: undefined },
      /tenantId is required[\s\S]*clientId is required/,
    ],
    [
      'a client id that is not a GUID',
      { clientId: 'my-app' },
      /clientId must be the application \(client\) GUID/,
    ],
    [
      'a partial secret ARN',
      { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:o365/mail' },
      /secretArn must be a complete/,
    ],
    ['a batch bigger than 10', { batchSize: 11 }, /batchSize must be an integer from 1 to 10/],
    [
      'a concurrency SQS does not allow',
      { maxConcurrency: 1 },
      /maxConcurrency must be an integer from 2 to 1000/,
    ],
    [
      'a batching window on a FIFO queue',
      { fifo: true, maxBatchingWindow: Duration.seconds(5) },
      /maxBatchingWindow is not supported with fifo/,
    ],
    [
      'a secret in the environment',
      { environment: { O365_CLIENT_SECRET: 'x' } },
      /environment.O365_CLIENT_SECRET is a secret/,
    ],
    [
      'an allowedFrom entry that is neither address nor domain',
      { allowedFrom: ['contoso.com'] },
      /allowedFrom entries must be addresses or @domain/,
    ],
  ])('%s', (_name, overrides, message) => {
    expect(() => new MailSender(newStack(), 'MailSender', senderProps(overrides))).toThrow(message);
  });

  it('reports every problem at once', () => {
    try {
      new MailSender(
        newStack(),
        'MailSender',
        senderProps({ sender: 'x', batchSize: 0, maxReceiveCount: 0 }),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MailSenderPropsError);
      expect((error as MailSenderPropsError).problems).toHaveLength(3);
    }
  });

  it('accepts a visibility timeout of exactly 6 x the function timeout', () => {
    expect(
      () =>
        new MailSender(
          newStack(),
          'MailSender',
          senderProps({ visibilityTimeout: Duration.seconds(360) }),
        ),
    ).not.toThrow();
  });
});
