/**
 * Logs and metrics for processed records: one line per record with its ids, and the counters of
 * SPEC's outcomes. A configuration error is the one `error` line of its batch, with the fix; the
 * records it held back are `info` (the error already says why), so an alarm on errors fires once.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ProcessedRecord, RecipientGroup, RecordOutcome } from './batch-outcome.ts';
import { countMetric, METRIC, type MetricName, messageKeys, shortList } from './observability.ts';

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
      } else {
        logger.info('sent', { ...keys, response: outcome.response });
      }
      return;
    case 'partial':
      logger.warn(partialMessage(outcome), {
        ...keys,
        accepted: outcome.accepted.length,
        response: outcome.response,
        ...(outcome.deferred && {
          deferred: { ...groupKeys(outcome.deferred), delaySeconds: outcome.deferred.delaySeconds },
        }),
        ...(outcome.refused && { refused: groupKeys(outcome.refused) }),
      });
      return;
    case 'invalid':
      logger.warn('invalid message moved to the DLQ', { ...keys, reason: outcome.reason });
      return;
    case 'rejected':
      logger.warn('rejected by the server; moved to the DLQ', {
        ...keys,
        reason: outcome.reason,
        reply: outcome.reply,
        ...(outcome.recipients && { recipients: shortList(outcome.recipients) }),
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

type Partial = Extract<RecordOutcome, { kind: 'partial' }>;

function partialMessage(outcome: Partial): string {
  const parts = [`sent to ${outcome.accepted.length}`];
  if (outcome.deferred) parts.push(`${outcome.deferred.recipients.length} to retry alone`);
  if (outcome.refused) parts.push(`${outcome.refused.recipients.length} refused, moved to the DLQ`);
  return `recipients fared differently: ${parts.join(', ')}`;
}

function groupKeys(group: RecipientGroup) {
  return {
    count: group.recipients.length,
    recipients: shortList(group.recipients),
    reason: group.reason,
    reply: group.reply,
  };
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
} as const satisfies Record<Exclude<RecordOutcome['kind'], 'partial'>, MetricName>;

/**
 * Counts each record once by outcome (a ledger duplicate as `DuplicatesSkipped`, not as sent; a
 * split one as sent when anyone got it, else as retried); a configuration error also counts one
 * `ConfigErrors`, and the recipients of a split record count as `RecipientsDeferred` / `RecipientsRefused`.
 */
export function recordMetrics(metrics: Metrics, records: readonly ProcessedRecord[]): void {
  const counts = new Map<MetricName, number>();
  const add = (name: MetricName, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value);
  for (const { outcome } of records) {
    if (outcome.kind === 'partial') {
      add(outcome.accepted.length > 0 ? METRIC.sent : METRIC.retried);
      if (outcome.deferred) add(METRIC.recipientsDeferred, outcome.deferred.recipients.length);
      if (outcome.refused) add(METRIC.recipientsRefused, outcome.refused.recipients.length);
      continue;
    }
    add(outcome.kind === 'sent' && outcome.duplicate ? METRIC.duplicates : METRIC_OF[outcome.kind]);
    if (outcome.kind === 'config') add(METRIC.configErrors);
  }
  for (const [name, value] of counts) countMetric(metrics, name, value);
}
