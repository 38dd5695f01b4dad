import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MailSenderPropsError } from '../../infra/mail-sender.ts';
import { METRICS_NAMESPACE } from '../../infra/mail-sender-monitoring.ts';
import { PROBE_EVENT } from '../../lib/guards/breaker/probe-event.ts';
import { policyOf, senderVariables, synthSender } from './infra-fixtures.ts';

describe('MailSender circuit breaker', () => {
  it('probes every minute with the probe input, on the sender itself, without EventBridge retries', () => {
    const { stack, sender, template } = synthSender();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: stack.resolve(sender.fn.functionArn),
          Input: JSON.stringify(PROBE_EVENT),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: stack.resolve(sender.breaker?.probeRule.ruleArn),
    });
  });

  it('lets the function switch exactly its own event source mapping, and keeps its state in the table', () => {
    const { stack, sender, template } = synthSender();
    const [mapping] = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'));
    const statements = policyOf(template, stack, sender.fn.role);
    const update = statements.find(
      (s: { Sid?: string }) => s.Sid === 'SwitchOwnEventSourceMapping',
    );
    expect(update.Action).toBe('lambda:UpdateEventSourceMapping');
    expect(JSON.stringify(update.Resource)).toContain(`"Ref":"${mapping}"`);
    expect(JSON.stringify(update.Resource)).toContain(':event-source-mapping:');
    expect(senderVariables(template)).toMatchObject({
      MAIL_STATE_TABLE: stack.resolve(sender.deliveryState?.table.tableName),
      MAIL_BREAKER_OUTAGE_SECONDS: '60',
    });
  });

  it('alarms while paused, on the maximum of ConsumptionPaused', () => {
    const { stack, sender, template } = synthSender();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'ConsumptionPaused',
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [stack.resolve(sender.alarmTopic.topicArn)],
      AlarmDescription: Match.stringLikeRegexp('^PAUSED: .*o365-mail resume'),
    });
  });

  it('takes a custom probe interval and outage threshold', () => {
    const { template } = synthSender({
      breaker: { probeInterval: Duration.minutes(5), outageAfter: Duration.seconds(0) },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    expect(senderVariables(template)).toMatchObject({ MAIL_BREAKER_OUTAGE_SECONDS: '0' });
  });

  it('turned off: no schedule, no permission, no alarm, and the sender told so', () => {
    const { stack, sender, template } = synthSender({ breaker: false });
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(sender.breaker).toBeUndefined();
    expect(senderVariables(template)).toMatchObject({ MAIL_BREAKER: 'off' });
    expect(senderVariables(template)).not.toHaveProperty('MAIL_BREAKER_OUTAGE_SECONDS');
    expect(JSON.stringify(policyOf(template, stack, sender.fn.role))).not.toContain('lambda:');
    expect(
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
        (a) => a.Properties.MetricName,
      ),
    ).not.toContain('ConsumptionPaused');
  });

  it('refuses intervals EventBridge and the sender cannot take', () => {
    let error: unknown;
    try {
      synthSender({
        breaker: { probeInterval: Duration.seconds(30), outageAfter: Duration.hours(2) },
        environment: { MAIL_BREAKER: 'off' },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MailSenderPropsError);
    expect((error as MailSenderPropsError).problems).toEqual(
      expect.arrayContaining([
        'breaker.probeInterval must be an integer from 1 to 60 minutes, got 0.5',
        'breaker.outageAfter must be an integer from 0 to 3600 seconds, got 7200',
        'environment.MAIL_BREAKER is set by the construct: use its prop instead',
      ]),
    );
  });

  it('passes the AWS Solutions checks', () => {
    const { stack } = synthSender();
    const findings = new AwsSolutionsChecks(stack.node.root)
      .validateScope(stack.node.root)
      .violations.map((v) => v.ruleName);
    expect(findings).toEqual([]);
  });
});
