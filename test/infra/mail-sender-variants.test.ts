import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { MailSender } from '../../infra/mail-sender.ts';
import type { MailSenderProps } from '../../infra/mail-sender-props.ts';
import {
  newApp,
  newStack,
  policyOf,
  SECRET_ARN,
  senderProps,
  synthSender,
  withoutAwsCredentials,
} from './infra-fixtures.ts';

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

  it('two senders in one stack keep their metrics apart: each its own service name, env and alarm dimension', () => {
    const stack = newStack();
    new MailSender(stack, 'Billing', senderProps({ serviceName: 'billing-mail' }));
    new MailSender(stack, 'Alerts', senderProps({ serviceName: 'alerts-mail' }));
    const template = Template.fromStack(stack);
    for (const name of ['billing-mail', 'alerts-mail']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: name }) },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ConfigErrors',
        Dimensions: [{ Name: 'service', Value: name }],
      });
    }
  });

  it('customer-managed key: queues use it, the function and producers get exactly the KMS calls they need', () => {
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
      kmsStatement(['kms:Decrypt', 'kms:GenerateDataKey']),
    ]);
  });

  it('attachment buckets: exactly s3:GetObject on their objects, kms:Decrypt on a bucket key, nag clean', () => {
    const app = newApp();
    const stack = new Stack(app, 'Test');
    const key = new Key(stack, 'BucketKey', { enableKeyRotation: true });
    const encrypted = Bucket.fromBucketAttributes(stack, 'Encrypted', {
      bucketName: 'reports-out',
      encryptionKey: key,
    });
    const plain = Bucket.fromBucketName(stack, 'Plain', 'invoices-out');
    const sender = new MailSender(
      stack,
      'MailSender',
      senderProps({ attachmentBuckets: [encrypted, plain] }),
    );
    const template = Template.fromStack(stack);
    const statements = policyOf(template, stack, sender.fn.role);
    expect(statements).toContainEqual({
      Sid: 'ReadAttachments',
      Effect: 'Allow',
      Action: 's3:GetObject',
      // sorted, as CDK writes them with cdk.json's recommended flags
      Resource: [
        stack.resolve(plain.arnForObjects('*')),
        stack.resolve(encrypted.arnForObjects('*')),
      ],
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: stack.resolve(key.keyArn),
    });
    const findings = new AwsSolutionsChecks(app)
      .validateScope(app)
      .violations.map((v) => v.ruleName);
    expect(findings).toEqual([]);
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

  it('warns at synth when maxConcurrency is above the connection cap (SMTP), not with Graph', () => {
    const warnings = (props: Partial<MailSenderProps>) =>
      Annotations.fromStack(synthSender(props).stack)
        .findWarning('*', Match.stringLikeRegexp('maxConcurrency'))
        .map((w) => String(w.entry.data));
    expect(warnings({ maxConcurrency: 4 })).toEqual([
      expect.stringMatching(
        /maxConcurrency 4 is above maxConnections 3: .*Set maxConcurrency to 3 or less/,
      ),
    ]);
    expect(warnings({ maxConcurrency: 3 })).toEqual([]);
    expect(warnings({ maxConcurrency: 4, maxConnections: 4 })).toEqual([]);
    expect(warnings({ maxConcurrency: 8, transport: 'graph' })).toEqual([]);
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
        smtpKeepAlive: Duration.seconds(0),
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
        Variables: Match.objectLike({
          MAIL_ALLOWED_FROM: 'mail@contoso.com,@reports.contoso.com',
          // 0 is a value, not "unset": the sender QUITs after every batch.
          SMTP_KEEPALIVE_SECONDS: '0',
        }),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@contoso.com',
    });
  });
});
