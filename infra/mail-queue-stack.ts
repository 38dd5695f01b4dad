import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DailyReportJob } from './daily-report-job.ts';
import { MailSender, type MailSenderProps } from './mail-sender.ts';
import type { StackSettings } from './stack-settings.ts';

export interface MailQueueStackProps extends StackProps {
  /** Validated deployment settings (see `stack-settings.ts`). */
  readonly settings: StackSettings;
}

/** Maps deployment settings onto the construct's props (only what was set). */
export function mailSenderPropsFrom(scope: Construct, settings: StackSettings): MailSenderProps {
  const seconds = (value: number | undefined) =>
    value === undefined ? undefined : Duration.seconds(value);
  const minutes = (value: number | undefined) =>
    value === undefined ? undefined : Duration.minutes(value);
  return {
    sender: settings.sender,
    allowedFrom: settings.allowedFrom,
    smtpAuth: settings.smtpAuth,
    transport: settings.transport,
    endpoint: settings.endpoint,
    graphEndpoint: settings.graphEndpoint,
    saveToSentItems: settings.saveToSentItems,
    graphLargeMessages: settings.graphLargeMessages,
    tenantId: settings.tenantId,
    clientId: settings.clientId,
    authorityHost: settings.authorityHost,
    smtpHost: settings.smtpHost,
    smtpPort: settings.smtpPort,
    secretArn: settings.secretArn,
    alarmEmail: settings.alarmEmail,
    fifo: settings.fifo,
    batchSize: settings.batchSize,
    maxBatchingWindow: seconds(settings.maxBatchingWindowSeconds),
    maxConcurrency: settings.maxConcurrency,
    maxConnections: settings.maxConnections,
    // Only `false` changes anything: the construct's defaults apply otherwise.
    ...(settings.breaker === false && { breaker: false as const }),
    maxReceiveCount: settings.maxReceiveCount,
    oldestMessageAgeThreshold: minutes(settings.oldestMessageAgeMinutes),
    smtpKeepAlive: seconds(settings.smtpKeepAliveSeconds),
    serviceName: settings.serviceName,
    attachmentBuckets: settings.attachmentBuckets?.map((name) =>
      Bucket.fromBucketName(scope, `AttachmentBucket-${name}`, name),
    ),
  };
}

/** The deployable app: one {@link MailSender}, optionally the daily report job, and the outputs. */
export class MailQueueStack extends Stack {
  readonly mailSender: MailSender;
  readonly dailyReport: DailyReportJob | undefined;

  constructor(scope: Construct, id: string, props: MailQueueStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.mailSender = new MailSender(this, 'MailSender', mailSenderPropsFrom(this, settings));
    this.dailyReport = settings.dailyReport
      ? new DailyReportJob(this, 'DailyReport', {
          mailSender: this.mailSender,
          to: settings.reportTo ?? [],
          schedule: Schedule.expression(settings.reportSchedule),
        })
      : undefined;

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    const { queue, deadLetterQueue, alarmTopic, secret } = this.mailSender;
    output('QueueUrl', queue.queueUrl, 'Producers send mail messages here (MAIL_QUEUE_URL)');
    output(
      'QueueArn',
      queue.queueArn,
      'For IAM policies of producers: sqs:SendMessage on this ARN',
    );
    output(
      'DeadLetterQueueUrl',
      deadLetterQueue.queueUrl,
      'Messages that cannot be sent (MAIL_DLQ_URL)',
    );
    output('AlarmTopicArn', alarmTopic.topicArn, 'Alarms notify this SNS topic');
    if (secret) {
      output(
        'SecretArn',
        secret.secretArn,
        'Put the credentials here (aws secretsmanager put-secret-value)',
      );
    }
    output(
      'DashboardName',
      this.mailSender.monitoring.dashboard.dashboardName,
      'CloudWatch dashboard of the mail flow',
    );
  }
}
