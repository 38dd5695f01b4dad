import { Duration, Validations } from 'aws-cdk-lib';
import { type IRuleTarget, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { MailSender } from './mail-sender.ts';
import {
  depsLockFilePath,
  functionEntries,
  lambdaBundling,
  projectRoot,
} from './sender-bundling.ts';

/** Properties of {@link DailyReportJob}. */
export interface DailyReportJobProps {
  /** The mail sender whose queue the report goes to, and whose figures it reports. */
  readonly mailSender: MailSender;
  /** Recipients of the report. */
  readonly to: readonly string[];
  /**
   * When the job runs (UTC); it reports the UTC day before.
   * @default Schedule.cron({ minute: '0', hour: '6' })
   */
  readonly schedule?: Schedule;
  /**
   * Retention of the job's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The example producer for scheduled report jobs: every day it reads yesterday's sent / rejected /
 * invalid / retried figures from CloudWatch and mails them as a CSV through the mail queue.
 */
export class DailyReportJob extends Construct {
  readonly fn: NodejsFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DailyReportJobProps) {
    super(scope, id);
    if (props.to.length === 0)
      throw new Error('DailyReportJob needs at least one recipient in `to`');
    const logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Daily mail report: read the sender metrics, enqueue one message, write its logs',
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: functionEntries.dailyReport,
      projectRoot,
      depsLockFilePath,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      // One GetMetricData call and one SendMessage: the smallest size is plenty.
      memorySize: 128,
      timeout: Duration.seconds(30),
      role,
      logGroup,
      bundling: lambdaBundling,
      description: 'Mails the mail queue daily figures as CSV through the mail queue',
      environment: {
        MAIL_QUEUE_URL: props.mailSender.queue.queueUrl,
        REPORT_TO: props.to.join(','),
        MAIL_SENDER_SERVICE_NAME: props.mailSender.serviceName,
        POWERTOOLS_SERVICE_NAME: 'o365-mail-daily-report',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    props.mailSender.grantSend(role);
    logGroup.grantWrite(role);
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadSenderMetrics',
        actions: ['cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions or namespace condition; it is read-only and the only call on "*".',
    });
    this.rule = new Rule(this, 'Schedule', {
      description: 'Runs the daily mail report',
      schedule: props.schedule ?? Schedule.cron({ minute: '0', hour: '6' }),
      targets: [this.#target()],
    });
  }

  #target(): IRuleTarget {
    // A report a few hours late is still useful; one that keeps failing is not worth 185 retries.
    return new LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.hours(2) });
  }
}
