import { setTimeout as delay } from 'node:timers/promises';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ConnectionLease, LeaseGrant } from '../../types.ts';
import { type DynamoDbSender, dynamoDbSdk, isConditionalCheckFailed } from '../dynamodb-sdk.ts';

/*
 * One item per sending mailbox (`id = "lease#<mailbox>"`; `#` cannot occur in a message id, so it
 * shares the table with the ledger and the rate limiter): a map from holder (one connection) to the
 * time its lease lapses, a version for optimistic writes, and `wantedUntil`, set while someone
 * waits for a slot so that holders about to keep an idle connection give it up instead.
 *
 * Taking a slot is a consistent GetItem, then an UpdateItem conditioned on the version read (the
 * pruned map plus the new holder): 2 calls when a slot is free. Renewing and releasing are one UpdateItem
 * each; both bump the version, so a taker that read the old map loses its write and reads again
 * rather than writing a holder's old expiry back. Expiry is compared here, never left to TTL
 * deletion (days late); `expiresAt` only clears out mailboxes that went quiet.
 */

/** Options of {@link DynamoDbConnectionLease}. */
export interface DynamoDbConnectionLeaseOptions {
  client: DynamoDbSender;
  tableName: string;
  /**
   * Connections per mailbox across every holder (Exchange Online allows 3).
   * @default 3
   */
  maxConnections?: number;
  /**
   * Lease of a connection in use, in seconds: longer than any invocation that could hold it
   * (the `MailSender` construct sets the function timeout plus 30 s).
   * @default 90
   */
  inUseSeconds?: number;
  /**
   * Longest wait for a free slot, in seconds; then the batch is retried later.
   * @default 3
   */
  maxWaitSeconds?: number;
  /** Pause between looks at a full mailbox while waiting (ms, jittered ±50 %). @default 250 */
  pollMs?: number;
  /** Clock in epoch milliseconds, injectable for tests. @default Date.now */
  now?: () => number;
  /** How the wait for a slot sleeps; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_RACES = 12;

interface LeaseItem {
  holders: Map<string, number>;
  version: number;
}

/** The connection cap of {@link ConnectionLease} on a DynamoDB table (partition key `id`). */
export class DynamoDbConnectionLease implements ConnectionLease {
  readonly maxWaitMs: number;
  readonly inUseMs: number;
  readonly maxConnections: number;
  /** DynamoDB calls made, for the soak's measurements. */
  calls = 0;
  readonly #client: DynamoDbSender;
  readonly #table: string;
  readonly #pollMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoDbConnectionLeaseOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.maxConnections = options.maxConnections ?? 3;
    if (!Number.isInteger(this.maxConnections) || this.maxConnections < 1) {
      throw new RangeError(
        `maxConnections must be a whole number ≥ 1, got ${options.maxConnections}`,
      );
    }
    this.inUseMs = (options.inUseSeconds ?? 90) * 1000;
    this.maxWaitMs = (options.maxWaitSeconds ?? 3) * 1000;
    this.#pollMs = options.pollMs ?? 250;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  async acquire(mailbox: string, holder: string, ttlMs: number): Promise<LeaseGrant> {
    const key = keyOf(mailbox);
    const giveUpAt = this.#now() + this.maxWaitMs;
    let inUse = 0;
    let signalled = false;
    for (let races = 0; races < MAX_RACES; ) {
      const item = await this.#read(key);
      const now = this.#now();
      const live = new Map([...item.holders].filter(([id, until]) => until > now && id !== holder));
      inUse = live.size;
      if (live.size < this.maxConnections) {
        live.set(holder, now + ttlMs);
        if (await this.#write(key, { ...item, holders: live }, now)) return { ok: true };
        races++;
        // Lost a race to another holder: re-read at once, with a little jitter.
        await delay(Math.random() * 5 * races);
        continue;
      }
      if (now >= giveUpAt) break;
      // Once per wait, for all of it: holders about to keep an idle connection give it up.
      if (!signalled) await this.#signalDemand(key, giveUpAt);
      signalled = true;
      await this.#sleep(Math.min(giveUpAt - now, this.#pollMs * (0.5 + Math.random())));
    }
    return { ok: false, inUse, max: this.maxConnections };
  }

  async renew(
    mailbox: string,
    holder: string,
    ttlMs: number,
  ): Promise<{ ok: boolean; wanted: boolean }> {
    const now = this.#now();
    this.calls++;
    try {
      const { Attributes } = await this.#client.send(
        new (await dynamoDbSdk()).UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: keyOf(mailbox) } },
          UpdateExpression: 'SET holders.#h = :until, expiresAt = :ttl ADD version :one',
          // Only a live lease is extended: a lapsed one's slot may have been taken meanwhile.
          ConditionExpression: 'holders.#h > :now',
          ExpressionAttributeNames: { '#h': holder },
          ExpressionAttributeValues: {
            ':until': n(now + ttlMs),
            ':now': n(now),
            ':one': n(1),
            ':ttl': n(ttlSeconds(now + ttlMs)),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, wanted: Number(Attributes?.wantedUntil?.N ?? 0) > now };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { ok: false, wanted: false };
      throw error;
    }
  }

  async release(mailbox: string, holder: string): Promise<void> {
    this.calls++;
    try {
      await this.#client.send(
        new (await dynamoDbSdk()).UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: keyOf(mailbox) } },
          UpdateExpression: 'REMOVE holders.#h ADD version :one',
          ConditionExpression: 'attribute_exists(holders.#h)',
          ExpressionAttributeNames: { '#h': holder },
          ExpressionAttributeValues: { ':one': n(1) },
        }),
      );
    } catch (error) {
      // Already gone: lapsed and pruned by a taker.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async #read(key: string): Promise<LeaseItem> {
    this.calls++;
    const { Item } = await this.#client.send(
      new (await dynamoDbSdk()).GetItemCommand({
        TableName: this.#table,
        Key: { id: { S: key } },
        ConsistentRead: true,
      }),
    );
    return {
      holders: new Map(Object.entries(Item?.holders?.M ?? {}).map(([id, v]) => [id, Number(v.N)])),
      version: Number(Item?.version?.N ?? 0),
    };
  }

  async #write(key: string, item: LeaseItem, now: number): Promise<boolean> {
    const latest = Math.max(now, ...item.holders.values());
    this.calls++;
    try {
      // An update, not a put: a waiter's `wantedUntil` written meanwhile stays.
      await this.#client.send(
        new (await dynamoDbSdk()).UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: key } },
          UpdateExpression: 'SET holders = :holders, version = :next, expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(id) OR version = :version',
          ExpressionAttributeValues: {
            ':holders': { M: Object.fromEntries([...item.holders].map(([id, t]) => [id, n(t)])) },
            ':next': n(item.version + 1),
            ':version': n(item.version),
            ':ttl': n(ttlSeconds(latest)),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Tells holders about to keep an idle connection that someone waits (no version bump). */
  async #signalDemand(key: string, until: number): Promise<void> {
    this.calls++;
    await this.#client
      .send(
        new (await dynamoDbSdk()).UpdateItemCommand({
          TableName: this.#table,
          Key: { id: { S: key } },
          UpdateExpression: 'SET wantedUntil = :until',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':until': n(until) },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionalCheckFailed(error)) throw error;
      });
  }
}

function keyOf(mailbox: string): string {
  return `lease#${mailbox.toLowerCase()}`;
}

function n(value: number): AttributeValue {
  return { N: String(value) };
}

/** TTL attribute (epoch seconds): a day after the last lease could lapse. */
function ttlSeconds(untilMs: number): number {
  return Math.ceil(untilMs / 1000) + 86_400;
}
