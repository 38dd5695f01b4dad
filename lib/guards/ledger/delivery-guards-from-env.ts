import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeliveryLedger, SendRateLimiter } from '../../types.ts';
import { rateLimiterFromEnv } from '../rate-limit/rate-limiter-from-env.ts';
import { deliveryLedgerFromEnv } from './ledger-from-env.ts';

/**
 * The ledger and the rate limiter the environment asks for (`MAIL_LEDGER_*`, `MAIL_RATE_*`), on
 * one DynamoDB client, created only when a table is configured. Each is off without its table.
 */
export function deliveryGuardsFromEnv(
  env: NodeJS.ProcessEnv,
):
  | { ok: true; ledger?: DeliveryLedger; rateLimiter?: SendRateLimiter }
  | { ok: false; problems: string[] } {
  let client: DynamoDBClient | undefined;
  const shared = () => {
    client ??= new DynamoDBClient({});
    return client;
  };
  const ledger = deliveryLedgerFromEnv(env, env.MAIL_LEDGER_TABLE?.trim() ? shared() : undefined);
  const limiter = rateLimiterFromEnv(env, env.MAIL_RATE_TABLE?.trim() ? shared() : undefined);
  const problems = [...(ledger.ok ? [] : ledger.problems), ...(limiter.ok ? [] : limiter.problems)];
  if (!ledger.ok || !limiter.ok) return { ok: false, problems };
  return { ok: true, ledger: ledger.ledger, rateLimiter: limiter.rateLimiter };
}
