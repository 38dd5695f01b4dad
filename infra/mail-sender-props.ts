import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';

/** How the sender authenticates to SMTP (`SMTP_AUTH`). */
export const SMTP_AUTH_MODES = ['oauth2', 'password', 'none'] as const;
export type SmtpAuthMode = (typeof SMTP_AUTH_MODES)[number];

// The door values mirror lib/config/transport-config.ts (infra does not import the runtime
// library); test/infra/mail-sender-doors.test.ts keeps them equal.

/** The door into Exchange Online (`MAIL_TRANSPORT`); see docs/doors.md. */
export const MAIL_TRANSPORTS = ['smtp', 'graph'] as const;
export type MailTransport = (typeof MAIL_TRANSPORTS)[number];

/** The SMTP endpoint preset (`SMTP_ENDPOINT`): client submission, or High Volume Email. */
export const SMTP_ENDPOINTS = ['office365', 'hve'] as const;
export type SmtpEndpoint = (typeof SMTP_ENDPOINTS)[number];

/** What Graph does with a message over sendMail's ~4 MB (`MAIL_GRAPH_LARGE_MESSAGES`). */
export const GRAPH_LARGE_MESSAGE_MODES = ['reject', 'upload'] as const;
export type GraphLargeMessageMode = (typeof GRAPH_LARGE_MESSAGE_MODES)[number];

/** High Volume Email's SMTP host. */
export const HVE_SMTP_HOST = 'smtp.hve.mx.microsoft';

/** Where the sender function's code comes from; see {@link MailSenderProps.senderCode}. */
export const SENDER_CODES = ['prebuilt', 'source'] as const;
export type SenderCode = (typeof SENDER_CODES)[number];

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
   * The door into Exchange Online (`MAIL_TRANSPORT`): SMTP AUTH, or Microsoft Graph `sendMail`
   * with the same MIME (needs `tenantId`, `clientId` and the app's Mail.Send; no SMTP AUTH on the
   * mailbox). See docs/doors.md.
   * @default 'smtp'
   */
  readonly transport?: MailTransport;
  /**
   * The SMTP endpoint (`SMTP_ENDPOINT`): Exchange Online client submission, or High Volume Email
   * (`smtp.hve.mx.microsoft:587`, internal recipients only, at most 50 recipients and 10 MB per
   * message, billed per recipient; `sendRateLimit` then defaults to off). Only with `transport: 'smtp'`.
   * @default 'office365'
   */
  readonly endpoint?: SmtpEndpoint;
  /**
   * Microsoft Graph host for sovereign clouds (`O365_GRAPH_ENDPOINT`): `https://graph.microsoft.us`,
   * `https://dod-graph.microsoft.us` or `https://microsoftgraph.chinacloudapi.cn`; pair it with the
   * cloud's `authorityHost`. Only with `transport: 'graph'`.
   * @default - not set: the sender uses `https://graph.microsoft.com`
   */
  readonly graphEndpoint?: string;
  /**
   * Keep a copy of each message in the mailbox's Sent Items (`MAIL_SAVE_TO_SENT_ITEMS`). `false`
   * sends through a draft and needs Mail.ReadWrite too. Only with `transport: 'graph'` (SMTP AUTH
   * always saves; HVE never does).
   * @default - not set: the sender's default, true
   */
  readonly saveToSentItems?: boolean;
  /**
   * A message whose sendMail request would exceed ~4 MB (`MAIL_GRAPH_LARGE_MESSAGES`): `'reject'`
   * dead-letters it with the reason, `'upload'` sends it as a draft with attachment upload sessions
   * (up to 150 MB; needs Mail.ReadWrite). Only with `transport: 'graph'`.
   * @default - not set: the sender's default, 'reject'
   */
  readonly graphLargeMessages?: GraphLargeMessageMode;
  /**
   * How the function authenticates to SMTP (`SMTP_AUTH`); Graph takes `oauth2` only.
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
   * @default 'smtp.office365.com', or 'smtp.hve.mx.microsoft' with `endpoint: 'hve'`
   */
  readonly smtpHost?: string;
  /**
   * SMTP port (`SMTP_PORT`); Office 365 submission is 587 with STARTTLS.
   * @default 587
   */
  readonly smtpPort?: number;
  /**
   * How long a warm sender keeps its idle, authenticated SMTP session for the next batch
   * (`SMTP_KEEPALIVE_SECONDS`, whole seconds up to an hour); `Duration.seconds(0)` QUITs it after
   * every batch. A frozen sandbox cannot close its idle session, so each warm sandbox may hold one
   * of the mailbox's ~3 Office 365 connections until the server's idle timeout.
   * @default - not set: the sender's default, 60 seconds
   */
  readonly smtpKeepAlive?: Duration;
  /**
   * Complete ARN (with its 6-character suffix) of an existing Secrets Manager secret holding the
   * JSON secret values (`O365_CLIENT_SECRET`, or `SMTP_PASSWORD`, ...).
   * @default - a new secret with a placeholder value, to fill in after deploy (no secret at all
   *   when `smtpAuth` is `'none'`)
   */
  readonly secretArn?: string;
  /**
   * Buckets that messages may reference in `attachments[].s3`; the function gets exactly
   * `s3:GetObject` on their objects (and `kms:Decrypt` on a bucket's customer-managed key).
   * @default - none: a message with an S3 attachment is dead-lettered as rejected (access denied)
   */
  readonly attachmentBuckets?: readonly IBucket[];
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
   * Remember sent message ids in a DynamoDB table (on-demand, TTL), so a message that SQS
   * redelivers or a producer enqueues twice is not sent again (docs/delivery-guarantees.md).
   * `false` turns the ledger off.
   * @default true
   */
  readonly deliveryLedger?: boolean;
  /**
   * How long a sent message id is remembered by the ledger.
   * @default Duration.days(7)
   */
  readonly deliveryLedgerTtl?: Duration;
  /**
   * Budget of the sending mailbox, shared by all concurrent invocations through the same table:
   * when it is spent, messages wait on the queue instead of being throttled by the server.
   * `false` turns the limiter off (throttling replies still delay the retries).
   * @default { messagesPerMinute: 30, recipientsPerDay: 10000 } (Exchange Online's limits); false
   *   with `endpoint: 'hve'` (HVE has no message or recipient rate limit)
   */
  readonly sendRateLimit?:
    | false
    | { readonly messagesPerMinute?: number; readonly recipientsPerDay?: number };
  /**
   * Most SMTP connections to the sending mailbox at once across all the function's sandboxes,
   * idle kept sessions included (`MAIL_MAX_CONNECTIONS`): Exchange Online refuses more with
   * `432 4.3.2 Concurrent connections limit exceeded`. Each connection is opened under a lease in
   * the delivery-state table that lapses by itself when its sandbox vanishes; a sandbox that finds
   * every slot taken waits a moment, then retries its batch later (nothing is lost). Lower it when
   * other clients use the same mailbox; `0` turns the cap off.
   * @default 3, or 0 with `transport: 'graph'` (Graph keeps no SMTP connections)
   */
  readonly maxConnections?: number;
  /**
   * The circuit breaker: on a configuration error (expired secret, revoked consent, bad
   * certificate, SMTP AUTH disabled, TLS), or when messages first tried `outageAfter` ago still
   * cannot reach the server or the token endpoint, the function switches its own event source
   * mapping off, so messages wait on the queue without spending receive counts (and never reach the
   * dead-letter queue for it). A scheduled probe (EventBridge, every `probeInterval`) loads the
   * configuration as a cold start would, sets up a session without sending, and switches the
   * mapping back on when that works; `o365-mail resume` does so at once. An alarm says "paused".
   * The state lives in the delivery-state table. `false` turns it off.
   * @default { probeInterval: Duration.minutes(1), outageAfter: Duration.seconds(60) }
   */
  readonly breaker?:
    | false
    | {
        /**
         * How often the probe runs (whole minutes, 1–60); while not paused it only reads the state.
         * @default Duration.minutes(1)
         */
        readonly probeInterval?: Duration;
        /**
         * How long messages may go unsent because nothing can be reached before consuming pauses
         * (`MAIL_BREAKER_OUTAGE_SECONDS`); `Duration.seconds(0)` pauses for configuration errors only.
         * @default Duration.seconds(60)
         */
        readonly outageAfter?: Duration;
      };
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
   * The `service` name of the sender's logs and the dimension of its metrics, which the alarms
   * and dashboard read. Give each `MailSender` in one account and region its own, or their
   * metrics mix and one's configuration error raises the other's alarm.
   * @default 'o365-mail-queue'
   */
  readonly serviceName?: string;
  /**
   * More environment for the function (`SMTP_TLS`, `O365_SCOPE`, ...). Secret values are refused:
   * they belong in the secret.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Where the sender function's code comes from: `'prebuilt'`, the minified bundle that ships in
   * this package (synth needs no bundler); or `'source'`, bundled with esbuild at synth from the
   * TypeScript sources, which only a clone of this repository has.
   * @default 'prebuilt' ('source' when the construct itself runs from the TypeScript sources)
   */
  readonly senderCode?: SenderCode;
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
  deliveryLedger: true,
  deliveryLedgerTtl: Duration.days(7),
  sendRateLimit: { messagesPerMinute: 30, recipientsPerDay: 10_000 },
  // Exchange Online's concurrent connections per mailbox.
  maxConnections: 3,
  // A minute of probes while paused costs one state read per minute while not; a minute of outage
  // costs a message about two receives of its five (maxReceiveCount) before the pause.
  breaker: { probeInterval: Duration.minutes(1), outageAfter: Duration.seconds(60) },
  logRetention: RetentionDays.ONE_MONTH,
  // The `service` dimension of the sender's metrics (POWERTOOLS_SERVICE_NAME, read by
  // lib/delivery/observability.ts).
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
  'SMTP_KEEPALIVE_SECONDS',
  'SMTP_ENDPOINT',
  'MAIL_TRANSPORT',
  'O365_GRAPH_ENDPOINT',
  'MAIL_SAVE_TO_SENT_ITEMS',
  'MAIL_GRAPH_LARGE_MESSAGES',
  'O365_TENANT_ID',
  'O365_CLIENT_ID',
  'O365_AUTHORITY_HOST',
  'MAIL_SECRET_ARN',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'NODE_OPTIONS',
  'MAIL_LEDGER_TABLE',
  'MAIL_LEDGER_TTL_SECONDS',
  'MAIL_LEDGER_IN_PROGRESS_SECONDS',
  'MAIL_RATE_TABLE',
  'MAIL_RATE_PER_MINUTE',
  'MAIL_RECIPIENTS_PER_DAY',
  'MAIL_STATE_TABLE',
  'MAIL_MAX_CONNECTIONS',
  'MAIL_CONNECTION_LEASE_SECONDS',
  'MAIL_BREAKER',
  'MAIL_BREAKER_OUTAGE_SECONDS',
  'MAIL_BREAKER_FILE',
] as const;
