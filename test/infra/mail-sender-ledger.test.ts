import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MailSenderPropsError } from '../../infra/mail-sender.ts';
import { policyOf, senderVariables, synthSender } from './infra-fixtures.ts';

describe('MailSender delivery ledger, rate-limit and connection-lease table', () => {
  it('by default keeps both in one on-demand table with TTL, keyed by id', () => {
    const { stack, sender, template } = synthSender();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const table = stack.resolve(sender.deliveryState?.table.tableName);
    // A claim outlives the 60 s function timeout by a minute; sent ids are kept 7 days.
    expect(senderVariables(template)).toMatchObject({
      MAIL_LEDGER_TABLE: table,
      MAIL_LEDGER_TTL_SECONDS: '604800',
      MAIL_LEDGER_IN_PROGRESS_SECONDS: '120',
      MAIL_RATE_TABLE: table,
      MAIL_RATE_PER_MINUTE: '30',
      MAIL_RECIPIENTS_PER_DAY: '10000',
    });
  });

  it('caps SMTP connections per mailbox with leases in the same table, 3 by default', () => {
    const { stack, sender, template } = synthSender();
    expect(senderVariables(template)).toMatchObject({
      MAIL_STATE_TABLE: stack.resolve(sender.deliveryState?.table.tableName),
      MAIL_MAX_CONNECTIONS: '3',
      // A lease outlives the 60 s function timeout.
      MAIL_CONNECTION_LEASE_SECONDS: '90',
    });
    expect(senderVariables(synthSender({ maxConnections: 2 }).template)).toMatchObject({
      MAIL_MAX_CONNECTIONS: '2',
    });
    const off = senderVariables(synthSender({ maxConnections: 0, breaker: false }).template);
    expect(off).toMatchObject({ MAIL_MAX_CONNECTIONS: '0' });
    expect(off).not.toHaveProperty('MAIL_STATE_TABLE');
    // The lease alone keeps the table.
    const leaseOnly = synthSender({ deliveryLedger: false, sendRateLimit: false, breaker: false });
    leaseOnly.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(senderVariables(leaseOnly.template)).not.toHaveProperty('MAIL_RATE_TABLE');
  });

  it('lets the function do exactly the four item operations on that table', () => {
    const { stack, sender, template } = synthSender();
    expect(policyOf(template, stack, sender.fn.role)).toContainEqual({
      Sid: 'DeliveryState',
      Effect: 'Allow',
      Action: [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      Resource: stack.resolve(sender.deliveryState?.table.tableArn),
    });
  });

  it('takes a custom ledger window and mailbox budget', () => {
    const { template } = synthSender({
      timeout: Duration.seconds(30),
      deliveryLedgerTtl: Duration.days(2),
      sendRateLimit: { messagesPerMinute: 20 },
    });
    expect(senderVariables(template)).toMatchObject({
      MAIL_LEDGER_TTL_SECONDS: '172800',
      MAIL_LEDGER_IN_PROGRESS_SECONDS: '90',
      MAIL_RATE_PER_MINUTE: '20',
      MAIL_RECIPIENTS_PER_DAY: '10000',
    });
  });

  it('turns the ledger and the limiter off one by one, and drops the table with all guards off', () => {
    const noLedger = senderVariables(synthSender({ deliveryLedger: false }).template);
    expect(noLedger).not.toHaveProperty('MAIL_LEDGER_TABLE');
    expect(noLedger).toHaveProperty('MAIL_RATE_TABLE');

    const noLimit = senderVariables(synthSender({ sendRateLimit: false }).template);
    expect(noLimit).toHaveProperty('MAIL_LEDGER_TABLE');
    expect(noLimit).not.toHaveProperty('MAIL_RATE_TABLE');

    const { stack, sender, template } = synthSender({
      deliveryLedger: false,
      sendRateLimit: false,
      maxConnections: 0,
      breaker: false,
    });
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(sender.deliveryState).toBeUndefined();
    expect(senderVariables(template)).not.toHaveProperty('MAIL_RATE_TABLE');
    expect(policyOf(template, stack, sender.fn.role)).not.toContainEqual(
      expect.objectContaining({ Sid: 'DeliveryState' }),
    );
  });

  it('refuses budgets and windows that cannot work, and env that would bypass the props', () => {
    let error: unknown;
    try {
      synthSender({
        deliveryLedgerTtl: Duration.seconds(10),
        sendRateLimit: { messagesPerMinute: 0, recipientsPerDay: 1.5 },
        maxConnections: -1,
        environment: { MAIL_RATE_PER_MINUTE: '100', MAIL_MAX_CONNECTIONS: '9' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MailSenderPropsError);
    expect((error as MailSenderPropsError).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^deliveryLedgerTtl must be an integer from 60/),
        expect.stringMatching(/^sendRateLimit.messagesPerMinute must be an integer from 1/),
        expect.stringMatching(/^sendRateLimit.recipientsPerDay must be an integer from 1/),
        'environment.MAIL_RATE_PER_MINUTE is set by the construct: use its prop instead',
        'maxConnections must be an integer from 0 to 1000, got -1',
        'environment.MAIL_MAX_CONNECTIONS is set by the construct: use its prop instead',
      ]),
    );
  });

  it('passes the AWS Solutions checks', () => {
    const { stack } = synthSender();
    const findings = new AwsSolutionsChecks(stack.node.root)
      .validateScope(stack.node.root)
      .violations.map((v) => v.ruleName);
    expect(findings).toEqual([]);
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.anyValue(),
    });
  });
});
