import type { DeliveryLedger } from '../../types.ts';
import { type DynamoDbSender, lazyDynamoDbClient } from '../dynamodb-sdk.ts';
import { DynamoDbDeliveryLedger } from './dynamodb-delivery-ledger.ts';
import { envInteger } from './env-number.ts';

/**
 * The delivery ledger the environment asks for:
 * - `MAIL_LEDGER_TABLE` — DynamoDB table (partition key `id`, TTL `expiresAt`); unset = no ledger.
 * - `MAIL_LEDGER_TTL_SECONDS` — how long a sent id is remembered (default 604800 = 7 days).
 * - `MAIL_LEDGER_IN_PROGRESS_SECONDS` — how long a claim blocks other attempts; the function
 *   timeout plus a margin (default 960; the `MailSender` construct sets timeout + 60).
 */
export function deliveryLedgerFromEnv(
  env: NodeJS.ProcessEnv,
  client?: DynamoDbSender,
): { ok: true; ledger?: DeliveryLedger } | { ok: false; problems: string[] } {
  const tableName = env.MAIL_LEDGER_TABLE?.trim();
  if (!tableName) return { ok: true };
  const problems: string[] = [];
  const sentTtlSeconds = envInteger(env, 'MAIL_LEDGER_TTL_SECONDS', 604_800, 60, problems);
  const inProgressSeconds = envInteger(env, 'MAIL_LEDGER_IN_PROGRESS_SECONDS', 960, 1, problems);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    ledger: new DynamoDbDeliveryLedger({
      client: client ?? lazyDynamoDbClient(),
      tableName,
      sentTtlSeconds,
      inProgressSeconds,
    }),
  };
}
