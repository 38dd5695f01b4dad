import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { MailSender } from '../../infra/mail-sender.ts';
import { esbuildOptions, functionEntries } from '../../infra/sender-bundling.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/delivery/observability.ts';
import {
  newStack,
  policyOf,
  senderProps,
  stagedBundleDir,
  withoutAwsCredentials,
} from './infra-fixtures.ts';

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
          // circuit breaker (test/infra/mail-sender-breaker.test.ts)
          MAIL_BREAKER_OUTAGE_SECONDS: '60',
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          NODE_OPTIONS: '--enable-source-maps',
          // delivery ledger, rate limit and connection cap (test/infra/mail-sender-ledger.test.ts)
          MAIL_LEDGER_TABLE: stack.resolve(sender.deliveryState?.table.tableName),
          MAIL_LEDGER_TTL_SECONDS: '604800',
          MAIL_LEDGER_IN_PROGRESS_SECONDS: '120',
          MAIL_RATE_TABLE: stack.resolve(sender.deliveryState?.table.tableName),
          MAIL_RATE_PER_MINUTE: '30',
          MAIL_RECIPIENTS_PER_DAY: '10000',
          MAIL_STATE_TABLE: stack.resolve(sender.deliveryState?.table.tableName),
          MAIL_MAX_CONNECTIONS: '3',
          MAIL_CONNECTION_LEASE_SECONDS: '90',
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
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
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
      {
        Sid: 'DeliveryState',
        Effect: 'Allow',
        Action: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        Resource: stack.resolve(sender.deliveryState?.table.tableArn),
      },
      // The breaker's own policy: find its event source mapping, switch exactly that one.
      {
        Sid: 'FindOwnEventSourceMapping',
        Effect: 'Allow',
        Action: 'lambda:ListEventSourceMappings',
        Resource: '*',
      },
      {
        Sid: 'SwitchOwnEventSourceMapping',
        Effect: 'Allow',
        Action: 'lambda:UpdateEventSourceMapping',
        Resource: expect.anything(),
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

  it('alarms on dead letters, old messages, function errors, configuration errors, a pause and an expiring credential, to an encrypted topic', () => {
    const topic = stack.resolve(sender.alarmTopic.topicArn);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
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
    alarm(METRICS_NAMESPACE, 'ConsumptionPaused', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'CredentialDaysLeft',
      Statistic: 'Minimum',
      Period: 3600,
      Threshold: 30,
      ComparisonOperator: 'LessThanThreshold',
      AlarmActions: [topic],
    });
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
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.LEGAL.txt', 'index.mjs.map']);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    // The SDK comes from the Lambda runtime (RUNTIME_MODULES): none of it is in the bundle. Only
    // Secrets Manager is imported at start; DynamoDB (guard tables, on their first call), SQS (failure
    // paths), S3 (attachments) and Lambda (the circuit breaker's switch) only through import(), so a
    // cold start does not pay for loading clients it may never use.
    expect(code).not.toMatch(/extends \w+\(\w+,\w+,"\w+",\w+\)/);
    const imported = (pattern: RegExp) => [...code.matchAll(pattern)].map((m) => m[1]).sort();
    const atStart = imported(/from\s*["'](@(?:aws-sdk|smithy)\/[^"']+)["']/g);
    const lazy = imported(/import\(["'](@(?:aws-sdk|smithy)\/[^"']+)["']\)/g);
    expect(atStart).toEqual(['@aws-sdk/client-secrets-manager']);
    expect(new Set(lazy)).toEqual(
      new Set([
        '@aws-sdk/client-dynamodb',
        '@aws-sdk/client-sqs',
        '@aws-sdk/client-s3',
        '@aws-sdk/client-lambda',
      ]),
    );
    expect(readFileSync(join(dir, 'index.mjs.LEGAL.txt'), 'utf8')).toMatch(/license/i);
    const loaded = await import(pathToFileURL(join(dir, 'index.mjs')).href);
    expect(typeof loaded.handler).toBe('function');
  });

  it('every AWS call the bundled sender can make is allowed by its role (no PutMetricData: metrics are EMF logs)', async () => {
    // The deployed bundle takes the SDK from the runtime. To see every operation the code can reach,
    // build it once more with the SDK inside (tree-shaken: only what is reachable), except the
    // clients it loads lazily as whole modules: of those, the operations are the commands the
    // deployed bundle takes out of them (`{SendMessageCommand:x}=await import("@aws-sdk/client-sqs")`).
    // DynamoDB is loaded lazily too, but its operations are granted per table (`elsewhere`).
    const deployed = readFileSync(join(stagedBundleDir(sender.fn), 'index.mjs'), 'utf8');
    const lazyClients = [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sqs',
      '@aws-sdk/client-s3',
      '@aws-sdk/client-lambda',
    ];
    const outfile = join(mkdtempSync(join(tmpdir(), 'o365-bundle-sdk-')), 'index.mjs');
    await build({
      ...esbuildOptions(functionEntries.sender, outfile),
      external: lazyClients,
      sourcemap: false,
      logLevel: 'silent',
    });
    const code = readFileSync(outfile, 'utf8');
    // SDK v3 commands are built as `class extends Command(..., "OperationName", schema)`.
    const operations = new Set([
      // Minified names may hold `$` (e.g. `$B`), which `\w` does not match.
      ...[...code.matchAll(/extends [\w$]+\([\w$]+,[\w$]+,"(\w+)",[\w$]+\)/g)].map((m) => m[1]),
      ...[
        ...deployed.matchAll(
          /(\w+)Command(?::[\w$]+)?\}=await import\("@aws-sdk\/client-(?:sqs|s3|lambda)"\)/g,
        ),
      ].map((m) => m[1]),
    ]);
    expect(operations).toContain('GetSecretValue'); // the pattern still finds the SDK's commands
    expect(operations).toContain('SendMessage');
    expect(operations).toContain('UpdateEventSourceMapping');
    expect(operations).toContain('ChangeMessageVisibilityBatch');
    const needs: Record<string, string> = {
      ReceiveMessage: 'sqs:ReceiveMessage',
      DeleteMessage: 'sqs:DeleteMessage',
      DeleteMessageBatch: 'sqs:DeleteMessage',
      ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
      ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
      SendMessage: 'sqs:SendMessage',
      SendMessageBatch: 'sqs:SendMessage',
      GetQueueAttributes: 'sqs:GetQueueAttributes',
      GetSecretValue: 'secretsmanager:GetSecretValue',
      ListEventSourceMappings: 'lambda:ListEventSourceMappings',
      UpdateEventSourceMapping: 'lambda:UpdateEventSourceMapping',
    };
    const elsewhere = new Set([
      // granted per bucket through `attachmentBuckets`
      'GetObject',
      'CreateSession',
      // the delivery ledger and rate limiter tables bring their own grants
      'GetItem',
      'PutItem',
      'DeleteItem',
      'UpdateItem',
      'DescribeEndpoints',
      // credential providers of the SDK; Lambda hands the role's credentials in the environment
      'AssumeRole',
      'AssumeRoleWithWebIdentity',
      'GetRoleCredentials',
      'CreateToken',
      'CreateOAuth2Token',
      'CreateOAuth2TokenWithIAM',
    ]);
    const allowed = new Set(
      policyOf(template, stack, sender.fn.role).flatMap(
        (s: { Action: string | string[] }) => s.Action,
      ),
    );
    const missing = [...operations].filter(
      (op) => !elsewhere.has(op) && !allowed.has(needs[op] ?? `unmapped:${op}`),
    );
    expect(missing).toEqual([]);
  });

  it('esbuildOptions (used by the benchmark) rebuild that bundle byte for byte', async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), 'o365-bundle-')), 'index.mjs');
    await build({ ...esbuildOptions(functionEntries.sender, outfile), logLevel: 'silent' });
    const staged = readFileSync(join(stagedBundleDir(sender.fn), 'index.mjs'));
    expect(readFileSync(outfile).equals(staged)).toBe(true);
  });
});
