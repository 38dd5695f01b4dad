import { Duration, Token } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';

/** How the sender authenticates to SMTP (`SMTP_AUTH`). */
export const SMTP_AUTH_MODES = ['oauth2', 'password', 'none'] as const;
export type SmtpAuthMode = (typeof SMTP_AUTH_MODES)[number];

/** Properties of {@link MailSender}. Every default is in {@link MAIL_SENDER_DEFAULTS}. */
export interface MailSenderProps {
  /** The mailbox that authenticates to SMTP and the default `from` (`MAIL_SENDER`). */
  readonly sender: string;
  /**
   * Addresses, or `@domain` entries, a message may use as `from` (`MAIL_ALLOWED_FROM`).
   * @default - only `sender`
   */
  readonly allowedFrom?: readonly string[];
  /**
   * How the function authenticates to SMTP (`SMTP_AUTH`).
   * @default 'oauth2'
   */
  readonly smtpAuth?: SmtpAuthMode;
  /**
   * Entra tenant id (GUID) or primary domain (`O365_TENANT_ID`). Required with `oauth2`.
   * @default - none
   */
  readonly tenantId?: string;
  /**
   * Application (client) id of the Entra app registration (`O365_CLIENT_ID`). Required with `oauth2`.
   * @default - none
   */
  readonly clientId?: string;
  /**
   * Entra authority host for other clouds (`O365_AUTHORITY_HOST`).
   * @default - not set: the sender uses `https://login.microsoftonline.com`
   */
  readonly authorityHost?: string;
  /**
   * SMTP server (`SMTP_HOST`).
   * @default 'smtp.office365.com'
   */
  readonly smtpHost?: string;
  /**
   * SMTP port (`SMTP_PORT`); Office 365 submission is 587 with STARTTLS.
   * @default 587
   */
  readonly smtpPort?: number;
  /**
   * Complete ARN (with its 6-character suffix) of an existing Secrets Manager secret holding the
   * JSON secret values (`O365_CLIENT_SECRET`, or `SMTP_PASSWORD`, ...).
   * @default - a new secret with a placeholder value, to fill in after deploy (no secret at all
   *   when `smtpAuth` is `'none'`)
   */
  readonly secretArn?: string;
  /**
   * Customer-managed KMS key encrypting both queues; producers then also get `kms:GenerateDataKey`
   * and `kms:Decrypt` on it through {@link MailSender.grantSend}.
   * @default - SQS-managed server-side encryption (SSE-SQS, no key to manage, no cost)
   */
  readonly encryptionKey?: IKey;
  /**
   * FIFO queue and DLQ (content-based deduplication on). Producers must then set a message group id.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * How long an unsent message stays on the mail queue.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Visibility timeout of the mail queue; at least 6 × `timeout` (AWS guidance for Lambda
   * consumers, so a message is not redelivered while a retried invocation still holds it).
   * @default - 6 × `timeout`
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before SQS moves a message to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Function timeout.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Function memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Messages per invocation (one SMTP session serves a batch), 1–10.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers messages before invoking (not for FIFO queues).
   * @default - none: invoke as soon as messages arrive
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations the queue may drive (2 is the lowest SQS allows; Office 365
   * allows 30 messages a minute and about 3 connections per mailbox).
   * @default 2
   */
  readonly maxConcurrency?: number;
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Address subscribed to the alarm topic (confirm the e-mail AWS sends).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Topic the alarms notify.
   * @default - a new topic encrypted with a new customer-managed KMS key (CloudWatch cannot
   *   publish to a topic encrypted with the AWS-managed `aws/sns` key)
   */
  readonly alarmTopic?: ITopic;
  /**
   * Alarm when the oldest message on the mail queue is older than this.
   * @default Duration.minutes(30)
   */
  readonly oldestMessageAgeThreshold?: Duration;
  /**
   * More environment for the function (`SMTP_TLS`, `O365_SCOPE`, ...). Secret values are refused:
   * they belong in the secret.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** The defaults of {@link MailSenderProps}, in one place so docs and code cannot drift. */
export const MAIL_SENDER_DEFAULTS = {
  smtpAuth: 'oauth2',
  smtpHost: 'smtp.office365.com',
  smtpPort: 587,
  fifo: false,
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  maxReceiveCount: 5,
  // One batch of 10 over one SMTP session is a few seconds (connect + STARTTLS + AUTH about 1 s,
  // each message well under 1 s, a token fetch under 1 s); 60 s leaves room for a slow server,
  // S3 attachments and the transport's own timeouts, while keeping the visibility timeout
  // (6x) at 6 minutes so a crashed batch is retried soon.
  timeout: Duration.seconds(60),
  // The work is I/O bound; 256 MB (with the CPU share it brings) parses MIME and TLS for a batch
  // of 1 MiB messages comfortably and costs little more than 128 MB.
  memorySize: 256,
  batchSize: 10,
  maxConcurrency: 2,
  logRetention: RetentionDays.ONE_MONTH,
  // The `service` dimension the sender's metrics carry: lib/observability.ts passes it to
  // Powertools explicitly (an explicit name wins over POWERTOOLS_SERVICE_NAME), so it is fixed.
  serviceName: 'o365-mail-queue',
  oldestMessageAgeThreshold: Duration.minutes(30),
} as const;

/** Environment variables the construct sets itself; `environment` may not override them. */
export const MANAGED_ENVIRONMENT = [
  'MAIL_QUEUE_URL',
  'MAIL_DLQ_URL',
  'MAIL_SENDER',
  'MAIL_ALLOWED_FROM',
  'SMTP_HOST',
  'SMTP_PORT',
  'SMTP_AUTH',
  'O365_TENANT_ID',
  'O365_CLIENT_ID',
  'O365_AUTHORITY_HOST',
  'MAIL_SECRET_ARN',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'NODE_OPTIONS',
] as const;

/** Secret values: only ever in Secrets Manager. */
const SECRET_ENVIRONMENT = [
  'O365_CLIENT_SECRET',
  'O365_CLIENT_PRIVATE_KEY',
  'O365_CLIENT_CERTIFICATE',
  'SMTP_PASSWORD',
];

/** Thrown once with every problem in the props. */
export class MailSenderPropsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid MailSender props:\n- ${problems.join('\n- ')}`);
    this.name = 'MailSenderPropsError';
    this.problems = problems;
  }
}

const EMAIL = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;
const DOMAIN_ENTRY = /^@[^\s@<>",]+\.[^\s@<>",]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;

/** True when `value` is known at synth time (tokens are checked by CloudFormation instead). */
const known = (value: string | number | undefined): boolean =>
  value !== undefined && !Token.isUnresolved(value);

function checkRange(
  problems: string[],
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  unit = '',
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}${unit}, got ${value}`);
  }
}

function checkIdentity(props: MailSenderProps, problems: string[]): void {
  if (known(props.sender) && !EMAIL.test(props.sender)) {
    problems.push(`sender must be a mailbox address like mail@contoso.com, got '${props.sender}'`);
  }
  for (const entry of props.allowedFrom ?? []) {
    if (known(entry) && !EMAIL.test(entry) && !DOMAIN_ENTRY.test(entry)) {
      problems.push(`allowedFrom entries must be addresses or @domain, got '${entry}'`);
    }
  }
  const auth = props.smtpAuth ?? MAIL_SENDER_DEFAULTS.smtpAuth;
  if (!SMTP_AUTH_MODES.includes(auth)) {
    problems.push(`smtpAuth must be one of ${SMTP_AUTH_MODES.join(', ')}, got '${auth}'`);
  }
  if (auth === 'oauth2') {
    if (props.tenantId === undefined) problems.push('tenantId is required with smtpAuth oauth2');
    else if (known(props.tenantId) && !TENANT.test(props.tenantId)) {
      problems.push(
        `tenantId must be the directory (tenant) GUID or primary domain, got '${props.tenantId}'`,
      );
    }
    if (props.clientId === undefined) problems.push('clientId is required with smtpAuth oauth2');
    else if (known(props.clientId) && !GUID.test(props.clientId)) {
      problems.push(`clientId must be the application (client) GUID, got '${props.clientId}'`);
    }
  }
  if (known(props.secretArn) && !SECRET_ARN.test(props.secretArn ?? '')) {
    problems.push(
      `secretArn must be a complete Secrets Manager ARN ending in its 6-character suffix, got '${props.secretArn}'`,
    );
  }
  if (known(props.authorityHost) && !/^https:\/\/[^/\s]+\/?$/.test(props.authorityHost ?? '')) {
    problems.push(`authorityHost must be an https:// origin, got '${props.authorityHost}'`);
  }
  if (known(props.alarmEmail) && !EMAIL.test(props.alarmEmail ?? '')) {
    problems.push(`alarmEmail must be an e-mail address, got '${props.alarmEmail}'`);
  }
  for (const key of Object.keys(props.environment ?? {})) {
    if (SECRET_ENVIRONMENT.includes(key)) {
      problems.push(`environment.${key} is a secret: put it in the Secrets Manager secret instead`);
    } else if ((MANAGED_ENVIRONMENT as readonly string[]).includes(key)) {
      problems.push(`environment.${key} is set by the construct: use its prop instead`);
    }
  }
}

function checkQueueAndFunction(props: MailSenderProps, problems: string[]): void {
  const timeout = props.timeout ?? MAIL_SENDER_DEFAULTS.timeout;
  const timeoutSeconds = timeout.toSeconds();
  checkRange(problems, 'timeout', timeoutSeconds, 1, 900, ' seconds');
  if (props.visibilityTimeout !== undefined) {
    const visibility = props.visibilityTimeout.toSeconds();
    if (visibility < 6 * timeoutSeconds) {
      problems.push(
        `visibilityTimeout (${visibility} s) must be at least 6 x the function timeout (${6 * timeoutSeconds} s)`,
      );
    }
    checkRange(problems, 'visibilityTimeout', visibility, 0, 43_200, ' seconds');
  }
  if (props.retentionPeriod !== undefined) {
    checkRange(
      problems,
      'retentionPeriod',
      props.retentionPeriod.toSeconds(),
      60,
      1_209_600,
      ' seconds',
    );
  }
  checkRange(problems, 'maxReceiveCount', props.maxReceiveCount, 1, 1000);
  checkRange(problems, 'memorySize', props.memorySize, 128, 10_240, ' MB');
  checkRange(problems, 'batchSize', props.batchSize, 1, 10);
  checkRange(problems, 'maxConcurrency', props.maxConcurrency, 2, 1000);
  checkRange(problems, 'smtpPort', props.smtpPort, 1, 65_535);
  if (props.maxBatchingWindow !== undefined) {
    checkRange(
      problems,
      'maxBatchingWindow',
      props.maxBatchingWindow.toSeconds(),
      0,
      300,
      ' seconds',
    );
    if (props.fifo) problems.push('maxBatchingWindow is not supported with fifo queues');
  }
  if (props.oldestMessageAgeThreshold !== undefined) {
    checkRange(
      problems,
      'oldestMessageAgeThreshold',
      props.oldestMessageAgeThreshold.toSeconds(),
      60,
      1_209_600,
      ' seconds',
    );
  }
}

/** Collects every problem in `props` and throws one {@link MailSenderPropsError}. */
export function validateMailSenderProps(props: MailSenderProps): void {
  const problems: string[] = [];
  checkIdentity(props, problems);
  checkQueueAndFunction(props, problems);
  if (problems.length > 0) throw new MailSenderPropsError(problems);
}
