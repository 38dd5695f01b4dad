import type { ConnectionLease, DeliveryLedger, SendRateLimiter } from '../../types.ts';
import { connectionLeaseFromEnv } from '../connection-lease/connection-lease-from-env.ts';
import { type DynamoDbSender, lazyDynamoDbClient } from '../dynamodb-sdk.ts';
import { rateLimiterFromEnv } from '../rate-limit/rate-limiter-from-env.ts';
import { deliveryLedgerFromEnv } from './ledger-from-env.ts';

/**
 * The ledger, the rate limiter and the connection lease the environment asks for (`MAIL_LEDGER_*`,
 * `MAIL_RATE_*`, `MAIL_STATE_TABLE` with `MAIL_MAX_CONNECTIONS`), on one DynamoDB client, created
 * only when a table is configured. Each is off without its table.
 */
export function deliveryGuardsFromEnv(env: NodeJS.ProcessEnv):
  | {
      ok: true;
      ledger?: DeliveryLedger;
      rateLimiter?: SendRateLimiter;
      connectionLease?: ConnectionLease;
    }
  | { ok: false; problems: string[] } {
  let client: DynamoDbSender | undefined;
  const shared = () => {
    client ??= lazyDynamoDbClient();
    return client;
  };
  const ledger = deliveryLedgerFromEnv(env, env.MAIL_LEDGER_TABLE?.trim() ? shared() : undefined);
  const limiter = rateLimiterFromEnv(env, env.MAIL_RATE_TABLE?.trim() ? shared() : undefined);
  const lease = connectionLeaseFromEnv(env, env.MAIL_STATE_TABLE?.trim() ? shared() : undefined);
  const problems = [
    ...(ledger.ok ? [] : ledger.problems),
    ...(limiter.ok ? [] : limiter.problems),
    ...(lease.ok ? [] : lease.problems),
  ];
  if (!ledger.ok || !limiter.ok || !lease.ok) return { ok: false, problems };
  return {
    ok: true,
    ledger: ledger.ledger,
    rateLimiter: limiter.rateLimiter,
    connectionLease: lease.lease,
  };
}
