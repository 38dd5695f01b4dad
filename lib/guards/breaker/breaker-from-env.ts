import { type DynamoDbSender, lazyDynamoDbClient } from '../dynamodb-sdk.ts';
import { envInteger } from '../ledger/env-number.ts';
import { type BreakerStore, queueNameOf } from './breaker-state.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { DynamoDbBreakerStore } from './dynamodb-breaker-store.ts';
import { EventSourceMappingSwitch } from './event-source-mapping-switch.ts';
import { FileBreakerStore } from './file-breaker-store.ts';

/** The breaker's outage threshold when `MAIL_BREAKER_OUTAGE_SECONDS` is not set. */
export const DEFAULT_OUTAGE_SECONDS = 60;

/**
 * The circuit breaker the environment asks for:
 * - `MAIL_BREAKER` — `on` (default) or `off`.
 * - `MAIL_QUEUE_URL` — the queue whose consumption it pauses (its name keys the state).
 * - `MAIL_STATE_TABLE` — DynamoDB table holding the state (`breaker#<queue name>`), shared by every
 *   sandbox; else `MAIL_BREAKER_FILE`, a JSON file (the local pipeline); with neither, no breaker.
 * - `MAIL_BREAKER_OUTAGE_SECONDS` — how long nothing may get through before an outage pauses
 *   (default 60; 0 = pause for configuration errors only).
 * - `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda) — the function whose event source mapping is
 *   switched off and on; elsewhere the consumer reads the state itself (`lib/local/`).
 */
export function breakerFromEnv(
  env: NodeJS.ProcessEnv,
  client?: DynamoDbSender,
): { ok: true; breaker?: CircuitBreaker } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const mode = env.MAIL_BREAKER?.trim().toLowerCase() || 'on';
  if (mode !== 'on' && mode !== 'off')
    problems.push(`MAIL_BREAKER must be on or off, got "${mode}"`);
  const outageSeconds = envInteger(
    env,
    'MAIL_BREAKER_OUTAGE_SECONDS',
    DEFAULT_OUTAGE_SECONDS,
    0,
    problems,
  );
  if (problems.length > 0) return { ok: false, problems };
  const queueUrl = env.MAIL_QUEUE_URL?.trim();
  const store = queueUrl ? breakerStoreFromEnv(env, queueNameOf(queueUrl), client) : undefined;
  if (mode === 'off' || !queueUrl || !store) return { ok: true };
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME?.trim();
  return {
    ok: true,
    breaker: new CircuitBreaker({
      store,
      consumer: functionName
        ? new EventSourceMappingSwitch({ functionName, queueName: queueNameOf(queueUrl) })
        : undefined,
      outageMs: outageSeconds * 1000,
    }),
  };
}

/** The breaker state of `queueName` as the environment places it, or undefined for none. */
export function breakerStoreFromEnv(
  env: NodeJS.ProcessEnv,
  queueName: string,
  client?: DynamoDbSender,
): BreakerStore | undefined {
  const tableName = env.MAIL_STATE_TABLE?.trim();
  if (tableName) {
    return new DynamoDbBreakerStore({
      client: client ?? lazyDynamoDbClient(),
      tableName,
      queueName,
    });
  }
  const file = env.MAIL_BREAKER_FILE?.trim();
  return file ? new FileBreakerStore(file) : undefined;
}
