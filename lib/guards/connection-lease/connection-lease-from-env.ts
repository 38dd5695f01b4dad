import type { ConnectionLease } from '../../types.ts';
import { type DynamoDbSender, lazyDynamoDbClient } from '../dynamodb-sdk.ts';
import { envInteger } from '../ledger/env-number.ts';
import { DynamoDbConnectionLease } from './dynamodb-connection-lease.ts';

/**
 * The cap on SMTP connections per mailbox the environment asks for:
 * - `MAIL_STATE_TABLE` — DynamoDB table (partition key `id`) shared by every instance; unset = no
 *   cap across instances (one process's memory cannot see the other Lambda sandboxes).
 * - `MAIL_MAX_CONNECTIONS` — connections per mailbox, idle kept ones included (default 3,
 *   Exchange Online's limit); `0` turns the cap off.
 * - `MAIL_CONNECTION_LEASE_SECONDS` — lease of a connection in use (default 90; the `MailSender`
 *   construct sets the function timeout plus 30 s).
 * - `MAIL_CONNECTION_WAIT_SECONDS` — longest wait for a free slot before the batch is retried
 *   later (default 3).
 */
export function connectionLeaseFromEnv(
  env: NodeJS.ProcessEnv,
  client?: DynamoDbSender,
): { ok: true; lease?: ConnectionLease } | { ok: false; problems: string[] } {
  const tableName = env.MAIL_STATE_TABLE?.trim();
  const problems: string[] = [];
  const maxConnections = envInteger(env, 'MAIL_MAX_CONNECTIONS', 3, 0, problems);
  const inUseSeconds = envInteger(env, 'MAIL_CONNECTION_LEASE_SECONDS', 90, 1, problems);
  const maxWaitSeconds = envInteger(env, 'MAIL_CONNECTION_WAIT_SECONDS', 3, 0, problems);
  if (problems.length > 0) return { ok: false, problems };
  if (!tableName || maxConnections === 0) return { ok: true };
  return {
    ok: true,
    lease: new DynamoDbConnectionLease({
      client: client ?? lazyDynamoDbClient(),
      tableName,
      maxConnections,
      inUseSeconds,
      maxWaitSeconds,
    }),
  };
}
