/**
 * Logs and metrics for processed records: one line per record with its ids, and the counters of
 * SPEC's outcomes. A configuration error is the one `error` line of its batch, with the fix; the
 * records it held back are `info` (the error already says why), so an alarm on errors fires once.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ProcessedRecord } from './batch-outcome.ts';
import { countMetric, METRIC, type MetricName, messageKeys } from './observability.ts';

export function logOutcome(logger: Logger, record: ProcessedRecord): void {
  // Producers' tags are for logs and metrics (SPEC): they ride on every line about the message.
  const keys = {
    ...messageKeys(record.mailId, record.sqsMessageId),
    ...(record.tags && { tags: record.tags }),
  };
  const outcome = record.outcome;
  switch (outcome.kind) {
    case 'sent':
      if (outcome.duplicate) {
        logger.info('already sent; acknowledged without sending again', keys);
      } else if (outcome.refused.length > 0) {
        logger.warn('sent, but some recipients were refused', {
          ...keys,
          refusedRecipients: outcome.refused,
          response: outcome.response,
        });
      } else {
        logger.info('sent', { ...keys, response: outcome.response });
      }
      return;
    case 'invalid':
      logger.warn('invalid message moved to the DLQ', { ...keys, reason: outcome.reason });
      return;
    case 'rejected':
      logger.warn('rejected by the server; moved to the DLQ', {
        ...keys,
        reason: outcome.reason,
        reply: outcome.reply,
      });
      return;
    case 'retry':
      logger.info('will retry', {
        ...keys,
        cause: outcome.cause,
        reason: outcome.reason,
        delaySeconds: outcome.delaySeconds,
        reply: outcome.reply,
      });
      return;
    case 'config':
      logger.error(configErrorMessage(outcome.reason, outcome.fix), {
        ...keys,
        reason: outcome.reason,
        fix: outcome.fix,
        reply: outcome.reply,
      });
      return;
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/** `sender configuration error: <reason>. Likely fix: <fix>` without doubled full stops. */
export function configErrorMessage(reason: string, fix: string): string {
  return `sender configuration error: ${reason.replace(/[.\s]+$/, '')}. Likely fix: ${fix}`;
}

const METRIC_OF = {
  sent: METRIC.sent,
  invalid: METRIC.invalid,
  rejected: METRIC.rejected,
  retry: METRIC.retried,
  config: METRIC.retried,
} as const satisfies Record<ProcessedRecord['outcome']['kind'], MetricName>;

/**
 * Counts each record once by outcome (a ledger duplicate as `DuplicatesSkipped`, not as sent); a
 * configuration error also counts one `ConfigErrors`.
 */
export function recordMetrics(metrics: Metrics, records: readonly ProcessedRecord[]): void {
  const counts = new Map<MetricName, number>();
  for (const { outcome } of records) {
    const name =
      outcome.kind === 'sent' && outcome.duplicate ? METRIC.duplicates : METRIC_OF[outcome.kind];
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (outcome.kind === 'config')
      counts.set(METRIC.configErrors, (counts.get(METRIC.configErrors) ?? 0) + 1);
  }
  for (const [name, value] of counts) countMetric(metrics, name, value);
}
