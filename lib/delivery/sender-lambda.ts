/**
 * The sender as one Lambda function sees it, so `functions/sender.ts` stays a one-liner: the
 * runtime kept while the sandbox is warm, the circuit breaker around each batch, and the breaker's
 * scheduled probe (an EventBridge event, {@link PROBE_EVENT}).
 *
 * - Before a batch: when consuming is paused, the batch goes back untouched (the event source
 *   mapping may still deliver a few while it switches off); when it resumed after this runtime was
 *   built, the runtime is rebuilt with the secret read anew (it may hold the credential that failed).
 * - After a batch: a configuration error pauses consuming at once, a long enough outage too
 *   (`CircuitBreaker`); either way the runtime is dropped after a configuration error, so the
 *   next batch loads the configuration again instead of repeating the failure from memory.
 * - The probe: while paused, loads the configuration and sets up a session (token, connect, TLS,
 *   AUTH; no mail), and resumes consuming when that works.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { credentialExpiry } from '../config/credential-expiry.ts';
import { loadSenderConfigWithSecrets } from '../config/secrets.ts';
import { breakerFromEnv } from '../guards/breaker/breaker-from-env.ts';
import type { BreakerState } from '../guards/breaker/breaker-state.ts';
import { type PauseOutcome, pausedMessage } from '../guards/breaker/circuit-breaker.ts';
import { batchHealth } from './batch-health.ts';
import {
  createObservability,
  flushMetrics,
  METRIC,
  type Observability,
  reportCredentialExpiry,
} from './observability.ts';
import { peekMailId } from './process-record.ts';
import { createSenderRuntime, probeSender, type SenderRuntime } from './sender-runtime.ts';

export { isProbeEvent, PROBE_EVENT } from '../guards/breaker/probe-event.ts';

/** What one probe found. */
export type ProbeReport =
  | { breaker: 'off' }
  | { breaker: 'closed' }
  | { breaker: 'resumed' }
  | { breaker: 'paused'; reason: string; fix: string };

/**
 * How long a sandbox trusts a "not paused" read. A pause another sandbox decided meanwhile costs
 * at most this sandbox's own try at the broken configuration (which stops its batch at once); a
 * paused state is read again on every batch.
 */
const RUNNING_STATE_TRUST_MS = 2_000;

export interface SenderLambda {
  /** One batch from the event source mapping. */
  batch(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  /** The breaker's scheduled probe. */
  probe(): Promise<ProbeReport>;
  /** QUITs the kept SMTP session (local runs and tests; Lambda never calls it). */
  close(): Promise<void>;
}

export interface SenderLambdaOptions {
  observability?: Observability;
  /** @default Date.now */
  now?: () => number;
}

export function createSenderLambda(
  env: NodeJS.ProcessEnv,
  options: SenderLambdaOptions = {},
): SenderLambda {
  const observability = options.observability ?? createObservability(env);
  const { logger, metrics } = observability;
  const now = options.now ?? Date.now;
  const fromEnv = breakerFromEnv(env);
  if (!fromEnv.ok) {
    // The batch path reports these through the runtime's configuration check as well.
    logger.error(`circuit breaker off: ${fromEnv.problems.join('; ')}`);
  }
  const breaker = fromEnv.ok ? fromEnv.breaker : undefined;
  let runtime: { value: Promise<SenderRuntime>; builtAt: number } | undefined;
  let freshSecrets = false;

  async function dropRuntime(): Promise<void> {
    const dropped = runtime;
    runtime = undefined;
    freshSecrets = true;
    await (await dropped?.value.catch(() => undefined))?.close();
  }

  async function getRuntime(resumedAt: number | undefined): Promise<SenderRuntime> {
    if (runtime && resumedAt !== undefined && runtime.builtAt <= resumedAt) await dropRuntime();
    if (!runtime) {
      runtime = {
        value: createSenderRuntime(env, { observability, freshSecrets }),
        builtAt: now(),
      };
      freshSecrets = false;
    }
    try {
      const current = await runtime.value;
      if (!current.ready) {
        runtime = undefined;
        freshSecrets = true;
      }
      return current;
    } catch (err) {
      runtime = undefined;
      throw err;
    }
  }

  /** A "not paused" read this recent is trusted for the next batch (a busy sandbox reads less). */
  let running: { state: BreakerState; at: number } | undefined;

  /**
   * The breaker's state; a store that cannot be read must not stop the mail (logged, not paused).
   * Only batches (`cached`) trust and refresh the recent read: a probe's read says nothing about
   * how busy this sandbox is, and must not hide a pause decided right after it.
   */
  async function breakerState(cached = false): Promise<BreakerState | undefined> {
    if (!breaker) return undefined;
    if (cached && running && now() - running.at < RUNNING_STATE_TRUST_MS) return running.state;
    try {
      const state = await breaker.state();
      if (state.paused) running = undefined;
      else if (cached) running = { state, at: now() };
      return state;
    } catch (err) {
      logger.warn('circuit breaker state unreadable; sending as if not paused', {
        error: String(err),
      });
      return undefined;
    }
  }

  function reportPause(outcome: PauseOutcome): void {
    if (!outcome.paused) return;
    if (outcome.first) {
      logger.error(pausedMessage(outcome.why), {
        cause: outcome.why.cause,
        reason: outcome.why.reason,
        fix: outcome.why.fix,
      });
    }
    if (outcome.switched && !outcome.switched.ok) {
      logger.error(
        'could not switch the event source mapping off: Lambda keeps delivering, and each delivery spends a receive. Grant the function lambda:ListEventSourceMappings and lambda:UpdateEventSourceMapping on its mapping (the MailSender construct does).',
        { error: outcome.switched.error },
      );
    }
    paused(true);
  }

  function paused(value: boolean): void {
    metrics.addMetric(METRIC.consumptionPaused, 'Count', value ? 1 : 0);
    flushMetrics(metrics);
  }

  async function batch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    // Same guard as Powertools' processPartialResponse: no Records means a wrong trigger, a bug.
    if (!Array.isArray(event?.Records)) {
      throw new TypeError('sender: the event has no Records array; is this an SQS event?');
    }
    const state = await breakerState(true);
    if (state?.paused) {
      // Delivered while the mapping switches off: left on the queue as they are, not sent.
      logger.info('consuming is paused; batch left on the queue', {
        records: event.Records.length,
        messageIds: event.Records.map(peekMailId),
        cause: state.cause,
        reason: state.reason,
      });
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    const current = await getRuntime(state?.resumedAt);
    const result = await current.processBatch(event.Records, context);
    if (result.configError) {
      running = undefined;
      await dropRuntime();
    }
    if (breaker) {
      try {
        reportPause(await breaker.afterBatch(batchHealth(event.Records, result, now())));
      } catch (err) {
        logger.error('circuit breaker could not pause', { error: String(err) });
      }
    }
    return { batchItemFailures: result.batchItemFailures };
  }

  async function probe(): Promise<ProbeReport> {
    const state = await breakerState();
    // Paused: the configuration as a cold start would see it, the secret read anew. Either way
    // the schedule keeps the credential's days-left metric fresh while no mail flows.
    const loaded = await loadSenderConfigWithSecrets(env, { forceFetch: state?.paused === true });
    if (loaded.ok) reportCredentialExpiry(observability, credentialExpiry(loaded.config));
    flushMetrics(metrics);
    if (!breaker) return { breaker: 'off' };
    if (!state) return { breaker: 'closed' };
    if (!state.paused) {
      paused(false);
      return { breaker: 'closed' };
    }
    const found = await probeSender(env, loaded);
    if (!found.ok) {
      logger.warn(
        `consuming stays paused: ${found.reason.replace(/[.\s]+$/, '')}. Fix: ${found.fix}`,
        { cause: state.cause, pausedSince: new Date(state.since).toISOString() },
      );
      paused(true);
      return { breaker: 'paused', reason: found.reason, fix: found.fix };
    }
    const { resumed, switched } = await breaker.resume();
    if (switched && !switched.ok) {
      logger.error('could not switch the event source mapping back on; run `o365-mail resume`', {
        error: switched.error,
      });
      paused(true);
      return { breaker: 'paused', reason: switched.error, fix: 'run `o365-mail resume`' };
    }
    if (resumed) {
      logger.info('consuming resumed: a probe with the current configuration got through', {
        pausedSince: new Date(state.since).toISOString(),
        cause: state.cause,
      });
    }
    paused(false);
    return { breaker: 'resumed' };
  }

  return {
    batch,
    probe,
    async close() {
      const current = runtime;
      if (!current) return;
      await (await current.value.catch(() => undefined))?.close();
    },
  };
}
