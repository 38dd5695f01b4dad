import { retryTimeScale } from '../../delivery/backoff.ts';
import type { SendRateLimiter } from '../../types.ts';
import { type DynamoDbSender, lazyDynamoDbClient } from '../dynamodb-sdk.ts';
import { envInteger } from '../ledger/env-number.ts';
import { DynamoDbRateLimiter } from './dynamodb-rate-limiter.ts';

/**
 * The per-mailbox rate limiter the environment asks for:
 * - `MAIL_RATE_TABLE` — DynamoDB table (partition key `id`) shared by every instance; unset = no
 *   limiter (one process's memory cannot see the other Lambda instances, so there is no fallback).
 * - `MAIL_RATE_PER_MINUTE` (default 30), `MAIL_RECIPIENTS_PER_DAY` (default 10000).
 * - `MAIL_RATE_WINDOW_SECONDS` (default 60) and `MAIL_RATE_WINDOW_MARGIN_SECONDS` (default 2): the
 *   span `MAIL_RATE_PER_MINUTE` counts in, and the safety margin added to it.
 * - `MAIL_RATE_MAX_WAIT_SECONDS` — a slot this close is waited for in the invocation (default 2).
 * - `MAIL_RETRY_TIME_SCALE` — shrinks throttling penalties like every retry delay (soak only).
 */
export function rateLimiterFromEnv(
  env: NodeJS.ProcessEnv,
  client?: DynamoDbSender,
): { ok: true; rateLimiter?: SendRateLimiter } | { ok: false; problems: string[] } {
  const tableName = env.MAIL_RATE_TABLE?.trim();
  if (!tableName) return { ok: true };
  const problems: string[] = [];
  const perMinute = envInteger(env, 'MAIL_RATE_PER_MINUTE', 30, 1, problems);
  const recipientsPerDay = envInteger(env, 'MAIL_RECIPIENTS_PER_DAY', 10_000, 1, problems);
  const maxWaitSeconds = envInteger(env, 'MAIL_RATE_MAX_WAIT_SECONDS', 2, 0, problems);
  const windowSeconds = envInteger(env, 'MAIL_RATE_WINDOW_SECONDS', 60, 1, problems);
  const windowMarginSeconds = envInteger(env, 'MAIL_RATE_WINDOW_MARGIN_SECONDS', 2, 0, problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    rateLimiter: new DynamoDbRateLimiter({
      client: client ?? lazyDynamoDbClient(),
      tableName,
      perMinute,
      recipientsPerDay,
      maxWaitSeconds,
      windowSeconds,
      windowMarginSeconds,
      penaltyScale: retryTimeScale(env),
    }),
  };
}
