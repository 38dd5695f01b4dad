/**
 * `@aws-sdk/client-dynamodb`, loaded on the first request rather than at module load. In Lambda it
 * comes from the runtime (infra/sender-bundling.ts) and loading it is most of what a cold start of
 * the sender would spend initialising (measured with `npm run bench`); a sender without a ledger,
 * rate limiter, lease or breaker table never needs it, and one with them loads it on its first
 * guard call. A static import would not do: the bundler hoists every import of an external package
 * to the top of the bundle, however lazily the importing module is evaluated.
 */
import type * as DynamoDb from '@aws-sdk/client-dynamodb';

export type DynamoDbSdk = typeof DynamoDb;

let loading: Promise<DynamoDbSdk> | undefined;

/** The SDK module (commands, client), loaded once. */
export function dynamoDbSdk(): Promise<DynamoDbSdk> {
  loading ??= import('@aws-sdk/client-dynamodb');
  return loading;
}

/** What the guards use of a DynamoDB client: `send`. A real `DynamoDBClient` fits (tests pass one). */
export type DynamoDbSender = Pick<DynamoDb.DynamoDBClient, 'send'>;

/** A {@link DynamoDbSender} whose client (and SDK) are created on the first `send`. */
export function lazyDynamoDbClient(config: DynamoDb.DynamoDBClientConfig = {}): DynamoDbSender {
  let client: Promise<DynamoDb.DynamoDBClient> | undefined;
  const send = async (command: Parameters<DynamoDb.DynamoDBClient['send']>[0]) => {
    client ??= dynamoDbSdk().then(({ DynamoDBClient }) => new DynamoDBClient(config));
    return (await client).send(command);
  };
  // `send` is overloaded (callback and promise forms); the guards only use the promise form.
  return { send: send as DynamoDb.DynamoDBClient['send'] };
}

/** A conditional write that did not apply (`ConditionalCheckFailedException`), by name: the class lives in the lazily loaded SDK. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
