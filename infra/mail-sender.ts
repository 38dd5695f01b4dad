import { Annotations, Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import {
  type Grant,
  type IGrantable,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cfnReferenceText } from './cfn-reference-text.ts';
import { ConsumptionBreaker } from './consumption-breaker.ts';
import { DeliveryStateTable } from './delivery-state-table.ts';
import { MailSenderMonitoring, METRICS_NAMESPACE } from './mail-sender-monitoring.ts';
import {
  MAIL_SENDER_DEFAULTS as DEFAULTS,
  HVE_SMTP_HOST,
  type MailSenderProps,
  type SmtpAuthMode,
} from './mail-sender-props.ts';
import { DEFAULT_SENDER_CODE, senderFunction } from './sender-code.ts';
import { validateMailSenderProps } from './validate-mail-sender-props.ts';

export type {
  GraphLargeMessageMode,
  MailSenderProps,
  MailTransport,
  SenderCode,
  SmtpAuthMode,
  SmtpEndpoint,
} from './mail-sender-props.ts';
export { MailSenderPropsError } from './validate-mail-sender-props.ts';

/**
 * The mail queue, its dead-letter queue, the sender function that drains it through Microsoft 365
 * SMTP, the secret it authenticates with, least-privilege IAM, alarms and a dashboard.
 *
 * The delivery ledger, the per-mailbox rate limit and the cap on SMTP connections share one
 * DynamoDB table ({@link DeliveryStateTable}); all are on by default.
 */
export class MailSender extends Construct {
  /** The queue producers send to (see {@link grantSend}). */
  readonly queue: Queue;
  /** Where messages that can never be sent end up, with the reason (14 days retention). */
  readonly deadLetterQueue: Queue;
  /** The sender function (`functions/sender.ts`, bundled). */
  readonly fn: LambdaFunction;
  /** The function's log group. */
  readonly logGroup: LogGroup;
  /** The secret with the SMTP/OAuth credentials; `undefined` with `smtpAuth: 'none'` and no `secretArn`. */
  readonly secret: ISecret | undefined;
  /** The topic every alarm notifies. */
  readonly alarmTopic: ITopic;
  /** The alarms and the dashboard. */
  readonly monitoring: MailSenderMonitoring;
  /** The ledger, rate-limit, connection-lease and breaker table; `undefined` when all are off. */
  readonly deliveryState: DeliveryStateTable | undefined;
  /** The circuit breaker's probe schedule and permissions; `undefined` with `breaker: false`. */
  readonly breaker: ConsumptionBreaker | undefined;
  /** The `service` dimension of the sender's metrics (see {@link MailSenderProps.serviceName}). */
  readonly serviceName: string;
  readonly #encryptionKey: IKey | undefined;

  constructor(scope: Construct, id: string, props: MailSenderProps) {
    super(scope, id);
    validateMailSenderProps(props);
    this.serviceName = props.serviceName ?? DEFAULTS.serviceName;
    const smtpAuth = props.smtpAuth ?? DEFAULTS.smtpAuth;
    this.#encryptionKey = props.encryptionKey;
    [this.queue, this.deadLetterQueue] = this.#createQueues(props);
    this.secret = this.#secret(props.secretArn, smtpAuth);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? DEFAULTS.logRetention,
    });
    // Our own role: the default one carries the AWS-managed AWSLambdaBasicExecutionRole
    // (logs on every log group); this one may write only to its own log group.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Mail sender: consume the mail queue, dead-letter, read its secret, write its logs',
    });
    this.fn = this.#createFunction(props, smtpAuth, role);
    this.#grantFunction(role);
    this.#grantAttachmentBuckets(role, props.attachmentBuckets ?? []);
    this.deliveryState = this.#deliveryState(props, role);
    const mapping = this.fn.addEventSourceMapping('QueueEventSource', {
      eventSourceArn: this.queue.queueArn,
      batchSize: props.batchSize ?? DEFAULTS.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? DEFAULTS.maxConcurrency,
    });
    const breaker = breakerOf(props);
    this.breaker = breaker
      ? new ConsumptionBreaker(this, 'Breaker', {
          fn: this.fn,
          role,
          mapping,
          probeInterval: breaker.probeInterval,
        })
      : undefined;
    this.monitoring = new MailSenderMonitoring(this, 'Monitoring', {
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      fn: this.fn,
      serviceName: this.serviceName,
      oldestMessageAgeThreshold:
        props.oldestMessageAgeThreshold ?? DEFAULTS.oldestMessageAgeThreshold,
      alarmTopic: props.alarmTopic,
      alarmEmail: props.alarmEmail,
      breaker: breaker !== undefined,
    });
    this.alarmTopic = this.monitoring.alarmTopic;
  }

  /**
   * Lets `grantee` put mail on the queue: exactly `sqs:SendMessage` on it, plus
   * `kms:GenerateDataKey` and `kms:Decrypt` on the key when the queue uses a customer-managed key.
   */
  grantSend(grantee: IGrantable): Grant {
    const grant = this.queue.grant(grantee, 'sqs:SendMessage');
    this.#encryptionKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    return grant;
  }

  #createQueues(props: MailSenderProps): [Queue, Queue] {
    const timeout = props.timeout ?? DEFAULTS.timeout;
    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...this.#queueBasics(props),
      retentionPeriod: DEFAULTS.deadLetterRetentionPeriod,
    });
    const queue = new Queue(this, 'Queue', {
      ...this.#queueBasics(props),
      retentionPeriod: props.retentionPeriod ?? DEFAULTS.retentionPeriod,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(6 * timeout.toSeconds()),
      deadLetterQueue: {
        queue: deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
      },
    });
    return [queue, deadLetterQueue];
  }

  #createFunction(props: MailSenderProps, smtpAuth: SmtpAuthMode, role: Role): LambdaFunction {
    return senderFunction(this, 'Function', props.senderCode ?? DEFAULT_SENDER_CODE, {
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULTS.memorySize,
      timeout: props.timeout ?? DEFAULTS.timeout,
      role,
      logGroup: this.logGroup,
      description: `Sends queued mail through Microsoft 365 (${describeDoor(props)})`,
      environment: this.#environment(props, smtpAuth),
    });
  }

  #queueBasics(props: MailSenderProps): QueueProps {
    const encryption = props.encryptionKey
      ? { encryption: QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: QueueEncryption.SQS_MANAGED };
    // Content-based deduplication lets producers omit a deduplication id on FIFO queues.
    const fifo = props.fifo ? { fifo: true, contentBasedDeduplication: true } : {};
    return { ...encryption, ...fifo, enforceSSL: true };
  }

  #secret(secretArn: string | undefined, smtpAuth: SmtpAuthMode): ISecret | undefined {
    if (secretArn) return Secret.fromSecretCompleteArn(this, 'Secret', secretArn);
    if (smtpAuth === 'none') return undefined;
    const field = smtpAuth === 'password' ? 'SMTP_PASSWORD' : 'O365_CLIENT_SECRET';
    const secret = new Secret(this, 'Secret', {
      description: `Mail sender credentials (JSON). Fill in after deploy: {"${field}":"..."}`,
      // A placeholder, not a secret: the real value is put after deploy, out of the template.
      // CloudFormation leaves it alone on later deploys because this value never changes.
      secretObjectValue: { [field]: SecretValue.unsafePlainText('') },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is a client secret (or password) issued by Microsoft Entra ID / the mail server; it is rotated there and put here by the operator. A Secrets Manager rotation function would need app-management rights in Entra that the sender must not have.',
    });
    return secret;
  }

  #environment(props: MailSenderProps, smtpAuth: SmtpAuthMode): Record<string, string> {
    const optional: Record<string, string | undefined> = {
      O365_TENANT_ID: props.tenantId,
      O365_CLIENT_ID: props.clientId,
      O365_AUTHORITY_HOST: props.authorityHost,
      MAIL_TRANSPORT: props.transport,
      SMTP_ENDPOINT: props.endpoint,
      O365_GRAPH_ENDPOINT: props.graphEndpoint,
      MAIL_SAVE_TO_SENT_ITEMS:
        props.saveToSentItems === undefined ? undefined : String(props.saveToSentItems),
      MAIL_GRAPH_LARGE_MESSAGES: props.graphLargeMessages,
      SMTP_KEEPALIVE_SECONDS: props.smtpKeepAlive && String(props.smtpKeepAlive.toSeconds()),
      MAIL_SECRET_ARN: this.secret?.secretArn,
    };
    const breaker = breakerOf(props);
    const breakerEnvironment: Record<string, string> = breaker
      ? { MAIL_BREAKER_OUTAGE_SECONDS: String(breaker.outageAfter.toSeconds()) }
      : { MAIL_BREAKER: 'off' };
    return {
      MAIL_QUEUE_URL: this.queue.queueUrl,
      MAIL_DLQ_URL: this.deadLetterQueue.queueUrl,
      MAIL_SENDER: props.sender,
      MAIL_ALLOWED_FROM: (props.allowedFrom ?? [props.sender]).join(','),
      SMTP_HOST: props.smtpHost ?? (props.endpoint === 'hve' ? HVE_SMTP_HOST : DEFAULTS.smtpHost),
      SMTP_PORT: String(props.smtpPort ?? DEFAULTS.smtpPort),
      SMTP_AUTH: smtpAuth,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      ...breakerEnvironment,
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    } as Record<string, string>;
  }

  /**
   * Exactly what the function and its event source mapping use; written out instead of
   * `grantConsumeMessages`/`grantSendMessages`/`grantRead`, which add `GetQueueUrl` and
   * `DescribeSecret` the sender never calls.
   */
  #grantFunction(role: Role): void {
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ConsumeMailQueue',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          // A copy for the recipients that got a temporary reply while others got the message.
          'sqs:SendMessage',
        ],
        resources: [this.queue.queueArn],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'DeadLetter',
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );
    if (this.secret) {
      role.addToPolicy(
        new PolicyStatement({
          sid: 'ReadCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.secret.secretArn],
        }),
      );
    }
    // Decrypt to receive, GenerateDataKey to dead-letter.
    this.#encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.logGroup.grantWrite(role);
  }

  #deliveryState(props: MailSenderProps, role: Role): DeliveryStateTable | undefined {
    const ledger = props.deliveryLedger ?? DEFAULTS.deliveryLedger;
    const limits =
      props.sendRateLimit ?? (props.endpoint === 'hve' ? false : DEFAULTS.sendRateLimit);
    const maxConnections =
      props.maxConnections ?? (props.transport === 'graph' ? 0 : DEFAULTS.maxConnections);
    const breaker = breakerOf(props) !== undefined;
    const concurrency = props.maxConcurrency ?? DEFAULTS.maxConcurrency;
    if (maxConnections > 0 && concurrency > maxConnections) {
      // Not an error: it works, but invocations beyond the cap wait for a connection slot and,
      // when none frees up in time, hand their batch back, which spends a receive of each message.
      Annotations.of(this).addWarningV2(
        'o365-mail-queue:maxConcurrencyAboveConnections',
        `maxConcurrency ${concurrency} is above maxConnections ${maxConnections}: the extra invocations wait for a free SMTP connection and may hand their batch back, spending receives. Set maxConcurrency to ${maxConnections} or less (a mailbox takes at most 3 connections in Exchange Online).`,
      );
    }
    if (!ledger && !limits && maxConnections === 0 && !breaker) return undefined;
    const state = new DeliveryStateTable(this, 'DeliveryState', {
      role,
      functionTimeout: props.timeout ?? DEFAULTS.timeout,
      ledger,
      ledgerTtl: props.deliveryLedgerTtl ?? DEFAULTS.deliveryLedgerTtl,
      rateLimit: limits && {
        messagesPerMinute: limits.messagesPerMinute ?? DEFAULTS.sendRateLimit.messagesPerMinute,
        recipientsPerDay: limits.recipientsPerDay ?? DEFAULTS.sendRateLimit.recipientsPerDay,
      },
      maxConnections,
      breaker,
    });
    for (const [name, value] of Object.entries(state.environment)) {
      this.fn.addEnvironment(name, value);
    }
    return state;
  }

  /** Exactly `s3:GetObject` on the objects (bucket.grantRead would add List and GetBucket*). */
  #grantAttachmentBuckets(role: Role, buckets: readonly IBucket[]): void {
    if (buckets.length === 0) return;
    role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadAttachments',
        actions: ['s3:GetObject'],
        resources: buckets.map((bucket) => bucket.arnForObjects('*')),
      }),
    );
    for (const bucket of buckets) {
      bucket.encryptionKey?.grant(role, 'kms:Decrypt');
      // The finding id nag gives this resource, so only this wildcard is acknowledged.
      const resource = cfnReferenceText(Stack.of(this).resolve(bucket.arnForObjects('*')));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          'Producers choose attachment keys per message; the grant is read-only (s3:GetObject) and limited to the buckets named in attachmentBuckets.',
      });
    }
  }
}

/** The breaker's settings with defaults filled, or undefined when it is off. */
function breakerOf(
  props: MailSenderProps,
): { probeInterval: Duration; outageAfter: Duration } | undefined {
  const breaker = props.breaker ?? DEFAULTS.breaker;
  if (!breaker) return undefined;
  return {
    probeInterval: breaker.probeInterval ?? DEFAULTS.breaker.probeInterval,
    outageAfter: breaker.outageAfter ?? DEFAULTS.breaker.outageAfter,
  };
}

/** For the function description: the door it sends through. */
function describeDoor(props: MailSenderProps): string {
  if (props.transport === 'graph') return 'Graph sendMail';
  return props.endpoint === 'hve' ? 'High Volume Email' : 'SMTP';
}
