import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CREDENTIAL_WARNING_DAYS } from '../lib/config/credential-expiry.ts';

/** The namespace the sender's Powertools metrics are published in. */
export const METRICS_NAMESPACE = 'O365MailQueue';

export interface MailSenderMonitoringProps {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly fn: IFunction;
  /** The `service` dimension of the sender's metrics. */
  readonly serviceName: string;
  readonly oldestMessageAgeThreshold: Duration;
  /** @default - a new encrypted topic */
  readonly alarmTopic?: ITopic;
  /** @default - no subscription */
  readonly alarmEmail?: string;
  /** Alarm while the circuit breaker keeps consuming paused. @default false */
  readonly breaker?: boolean;
}

/** Alarms on the mail flow (to an SNS topic) and a dashboard of it. Part of {@link MailSender}. */
export class MailSenderMonitoring extends Construct {
  readonly alarmTopic: ITopic;
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard;
  readonly #props: MailSenderMonitoringProps;

  constructor(scope: Construct, id: string, props: MailSenderMonitoringProps) {
    super(scope, id);
    this.#props = props;
    this.alarmTopic = props.alarmTopic ?? this.#createTopic();
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.alarms = this.#createAlarms();
    const action = new SnsAction(this.alarmTopic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.dashboard = this.#createDashboard();
  }

  /** A sender metric (Powertools EMF, dimension `service`). */
  senderMetric(metricName: string, statistic = 'Sum'): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.#props.serviceName },
      statistic,
      period: Duration.minutes(5),
    });
  }

  #createTopic(): ITopic {
    // CloudWatch alarms can only publish to an encrypted topic whose key lets the CloudWatch
    // service use it; the AWS-managed aws/sns key cannot, so the topic gets its own key.
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the mail sender alarm topic',
      enableKeyRotation: true,
      // The key protects only notifications in transit through SNS: nothing to keep after destroy.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(
      new ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    const topic = new Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
    return topic;
  }

  #createAlarms(): Alarm[] {
    const { queue, deadLetterQueue, fn, oldestMessageAgeThreshold } = this.#props;
    const oneMinute = Duration.minutes(1);
    const alarm = (id: string, metric: IMetric, threshold: number, description: string): Alarm =>
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no messages / no invocations: healthy.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    const breaker = this.#props.breaker
      ? [
          alarm(
            'PausedAlarm',
            this.senderMetric('ConsumptionPaused', 'Maximum'),
            1,
            'PAUSED: the circuit breaker stopped consuming the mail queue (a configuration error, or the SMTP server or token endpoint unreachable). Messages wait on the queue. The sender log line "consuming paused" has the reason and the fix; after fixing, consuming resumes by itself when the scheduled probe gets through, or at once with `o365-mail resume`.',
          ),
        ]
      : [];
    // Emitted at each cold start and by each breaker probe, only when the expiry is known (a
    // certificate, or `expiresAt` in the secret); no data is no news.
    const credentialExpiry = new Alarm(this, 'CredentialExpiryAlarm', {
      metric: this.senderMetric('CredentialDaysLeft', 'Minimum').with({
        period: Duration.hours(1),
      }),
      threshold: CREDENTIAL_WARNING_DAYS,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `The sender's credential (client secret, certificate or password) expires in less than ${CREDENTIAL_WARNING_DAYS} days: renew it in Entra ID and put it, with its new expiresAt, in the secret. The sender's "credential expiring" log line and \`o365-mail doctor\` say which and when.`,
    });
    return [
      ...breaker,
      credentialExpiry,
      alarm(
        'DeadLetterAlarm',
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: oneMinute,
          statistic: 'Maximum',
        }),
        1,
        'Messages wait in the dead-letter queue: inspect them (o365-mail dlq list) and redrive or purge.',
      ),
      alarm(
        'OldestMessageAlarm',
        queue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: 'Maximum' }),
        oldestMessageAgeThreshold.toSeconds(),
        'Mail waits too long on the queue: the sender is failing, throttled or too slow for the load.',
      ),
      alarm(
        'FunctionErrorsAlarm',
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        'The sender function failed (crash or timeout): the whole batch will be retried.',
      ),
      alarm(
        'ConfigErrorsAlarm',
        this.senderMetric('ConfigErrors'),
        1,
        'The sender cannot send at all (token, AUTH, SMTP AUTH disabled or TLS): see its error log for the fix.',
      ),
    ];
  }

  #createDashboard(): Dashboard {
    const { queue, deadLetterQueue, fn } = this.#props;
    const minute = { period: Duration.minutes(1) };
    const graph = (title: string, left: IMetric[], right: IMetric[] = []): GraphWidget =>
      new GraphWidget({ title, left, right, width: 8, height: 6 });
    const dashboard = new Dashboard(this, 'Dashboard', {});
    dashboard.addWidgets(
      graph('Mail queue', [
        queue.metricApproximateNumberOfMessagesVisible({ ...minute, label: 'waiting' }),
        queue.metricApproximateNumberOfMessagesNotVisible({
          ...minute,
          label: 'in flight / backing off',
        }),
        queue.metricNumberOfMessagesSent({ ...minute, label: 'enqueued', statistic: 'Sum' }),
      ]),
      graph('Age of oldest message (s)', [
        queue.metricApproximateAgeOfOldestMessage({ ...minute, statistic: 'Maximum' }),
      ]),
      graph('Dead-letter queue', [
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          ...minute,
          label: 'dead letters',
        }),
      ]),
    );
    dashboard.addWidgets(
      graph('Outcomes', [
        this.senderMetric('MessagesSent'),
        this.senderMetric('MessagesRejected'),
        this.senderMetric('MessagesInvalid'),
        this.senderMetric('MessagesRetried'),
        this.senderMetric('ConfigErrors'),
      ]),
      graph('Send latency (ms)', [
        this.senderMetric('SendLatency', 'p50'),
        this.senderMetric('SendLatency', 'p99'),
      ]),
      graph(
        'Function',
        [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
        [fn.metricDuration({ statistic: 'Maximum' })],
      ),
    );
    return dashboard;
  }
}
