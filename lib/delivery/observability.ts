/**
 * Structured logs and CloudWatch metrics (EMF) for the sender, from Powertools.
 *
 * Every line about a message carries `messageId` (the mail id) and `sqsMessageId`: keys are passed
 * per call ({@link messageKeys}), not appended to the shared logger, because the local event source
 * runs several batches concurrently in one process and appended keys would leak between them.
 * Never log a body, an address list or a secret here; log reasons, ids and SMTP reply codes. The
 * formatter cuts whatever slips through: no value over 1 KB, no line over 8 KB.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  CREDENTIAL_WARNING_DAYS,
  type CredentialExpiry,
  describeCredentialExpiry,
  renewalFix,
} from '../config/credential-expiry.ts';
import { ShortLogFormatter } from './short-log-formatter.ts';

export const SERVICE_NAME = 'o365-mail-queue';
export const METRICS_NAMESPACE = 'O365MailQueue';

/** Metric names; dashboards and alarms use them, so they are part of the contract. */
export const METRIC = {
  sent: 'MessagesSent',
  rejected: 'MessagesRejected',
  invalid: 'MessagesInvalid',
  retried: 'MessagesRetried',
  configErrors: 'ConfigErrors',
  sendLatency: 'SendLatency',
  /** Redeliveries the delivery ledger recognised as already sent: acknowledged, not sent again. */
  duplicates: 'DuplicatesSkipped',
  /** Recipients that got a temporary reply while others got the message: sent to them alone later. */
  recipientsDeferred: 'RecipientsDeferred',
  /** Recipients refused for good while others got the message: named by a dead letter. */
  recipientsRefused: 'RecipientsRefused',
  /** 1 while the circuit breaker keeps consuming paused, 0 once it runs (sent at pause and by each probe). */
  consumptionPaused: 'ConsumptionPaused',
  /** Days until the credential expires (certificate, or a secret's `expiresAt`); at cold start and each probe. */
  credentialDaysLeft: 'CredentialDaysLeft',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

/**
 * Creates the logger and metrics. Outside Lambda (tests, `npm start`) set
 * `POWERTOOLS_METRICS_DISABLED=true` (or `POWERTOOLS_DEV=true`) to keep EMF lines off stdout;
 * counting still works, only the flush prints nothing.
 */
export function createObservability(env: NodeJS.ProcessEnv = process.env): Observability {
  // One name per deployment (the construct sets it): metrics and alarms of two MailSenders in one
  // account must not mix.
  const serviceName = env.POWERTOOLS_SERVICE_NAME?.trim() || SERVICE_NAME;
  return {
    logger: new Logger({ serviceName, logFormatter: new ShortLogFormatter() }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
  };
}

/** The keys every log line about one message carries. */
export function messageKeys(mailId: string, sqsMessageId: string) {
  return { messageId: mailId, sqsMessageId };
}

/** At most `max` entries of a list for a log line, and how many were left out. */
export function shortList(items: readonly string[], max = 10): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `… and ${items.length - max} more`];
}

export function countMetric(metrics: Metrics, name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

export function latencyMetric(metrics: Metrics, ms: number): void {
  metrics.addMetric(METRIC.sendLatency, MetricUnit.Milliseconds, ms);
}

/** Flushes what was counted; stays quiet when nothing was (Powertools warns on empty flushes). */
export function flushMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * Records the credential's days left (metric) and warns once it is under
 * {@link CREDENTIAL_WARNING_DAYS}; nothing when no expiry is known.
 */
export function reportCredentialExpiry(
  observability: Observability,
  expiry: CredentialExpiry | undefined,
): void {
  if (!expiry) return;
  observability.metrics.addMetric(METRIC.credentialDaysLeft, MetricUnit.NoUnit, expiry.daysLeft);
  if (expiry.daysLeft < CREDENTIAL_WARNING_DAYS) {
    observability.logger.warn(
      `credential expiring: ${describeCredentialExpiry(expiry)}. Fix: ${renewalFix(expiry)}.`,
      {
        credential: expiry.credential,
        expiresAt: expiry.expiresAt.toISOString(),
        daysLeft: expiry.daysLeft,
      },
    );
  }
}
