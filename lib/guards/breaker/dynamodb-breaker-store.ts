import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { type DynamoDbSender, dynamoDbSdk, isConditionalCheckFailed } from '../dynamodb-sdk.ts';
import type { BreakerState, BreakerStore, PauseCause, PauseReason } from './breaker-state.ts';

/**
 * The breaker of one queue as one item (`id = "breaker#<queue name>"`) in the delivery-state table:
 * `paused`, `cause`, `reason`, `fix`, `since` and `resumedAt`. Pausing and resuming are conditional
 * UpdateItems, so of several sandboxes that notice the same fault one pauses (and says so once).
 * The item never expires: a pause lasts until a probe or a person resumes it.
 */
export class DynamoDbBreakerStore implements BreakerStore {
  readonly #client: DynamoDbSender;
  readonly #table: string;
  readonly #key: string;

  constructor(options: { client: DynamoDbSender; tableName: string; queueName: string }) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#key = `breaker#${options.queueName}`;
  }

  async read(): Promise<BreakerState> {
    const { Item } = await this.#client.send(
      new (await dynamoDbSdk()).GetItemCommand({
        TableName: this.#table,
        Key: { id: { S: this.#key } },
        ConsistentRead: true,
      }),
    );
    const resumedAt = Item?.resumedAt?.N === undefined ? undefined : Number(Item.resumedAt.N);
    const resumed = resumedAt === undefined ? {} : { resumedAt };
    if (!Item?.paused?.BOOL) return { paused: false, ...resumed };
    return {
      paused: true,
      cause: (Item.cause?.S ?? 'config') as PauseCause,
      reason: Item.reason?.S ?? '',
      fix: Item.fix?.S ?? '',
      since: Number(Item.since?.N ?? 0),
      ...resumed,
    };
  }

  async pause(why: PauseReason, now: number): Promise<boolean> {
    return this.#conditional({
      UpdateExpression:
        'SET paused = :true, cause = :cause, reason = :reason, fix = :fix, since = :now',
      ConditionExpression: 'attribute_not_exists(paused) OR paused = :false',
      ExpressionAttributeValues: {
        ':true': { BOOL: true },
        ':false': { BOOL: false },
        ':cause': { S: why.cause },
        ':reason': { S: why.reason },
        ':fix': { S: why.fix },
        ':now': { N: String(now) },
      },
    });
  }

  async resume(now: number): Promise<boolean> {
    return this.#conditional({
      UpdateExpression: 'SET paused = :false, resumedAt = :now',
      ConditionExpression: 'paused = :true',
      ExpressionAttributeValues: {
        ':true': { BOOL: true },
        ':false': { BOOL: false },
        ':now': { N: String(now) },
      },
    });
  }

  async #conditional(
    update: Pick<
      UpdateItemCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new (await dynamoDbSdk()).UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: this.#key } },
          ...update,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
