import type { SQSRecord } from 'aws-lambda';
import type { BatchHealth } from '../guards/breaker/circuit-breaker.ts';
import type { BatchResult } from './batch-outcome.ts';

/**
 * What a batch's outcomes say about the way out, for the circuit breaker. For an unreachable
 * server it also says how long the batch's unsendable messages have been waiting, from SQS's
 * `ApproximateFirstReceiveTimestamp` (`records` in the order of `result.records`).
 */
export function batchHealth(
  records: readonly SQSRecord[],
  result: BatchResult,
  now: number,
): BatchHealth {
  if (result.configError) return { kind: 'config', ...result.configError };
  let unreachable: { reason: string; failingForMs: number } | undefined;
  for (const [i, { outcome }] of result.records.entries()) {
    // The server answered and took the message (for some recipients at least): the way out works.
    if (outcome.kind === 'sent' && !outcome.duplicate) return { kind: 'healthy' };
    if (outcome.kind === 'partial' && outcome.accepted.length > 0) return { kind: 'healthy' };
    if (outcome.kind !== 'retry' || outcome.cause !== 'unreachable') continue;
    const firstTried = Number(records[i]?.attributes?.ApproximateFirstReceiveTimestamp);
    const waited = Number.isFinite(firstTried) ? Math.max(0, now - firstTried) : 0;
    unreachable = {
      reason: unreachable?.reason ?? outcome.reason,
      failingForMs: Math.max(unreachable?.failingForMs ?? 0, waited),
    };
  }
  return unreachable ? { kind: 'unreachable', ...unreachable } : { kind: 'neutral' };
}
