import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DeliveryLedger, LedgerClaim } from '../../types.ts';
import { type DynamoDbSender, dynamoDbSdk, isConditionalCheckFailed } from '../dynamodb-sdk.ts';

/*
 * Why a conditional-write table of our own and not Powertools `makeIdempotent`:
 * - The sender's outcomes are data (`sent | invalid | rejected | retry | config`). `makeIdempotent`
 *   stores whatever the function returns as COMPLETED and only deletes the record on a throw, so a
 *   `retry` outcome would be replayed from the cache on redelivery unless every non-`sent` outcome
 *   were turned into an exception — the opposite of the project's rule.
 * - The processor already calls the `DeliveryLedger` seam (claim / complete / release) around each
 *   single send; two conditional writes implement it exactly, with the message `id` as the readable
 *   partition key (Powertools keys records by `function#hash(payload)`), so an operator can ask
 *   "was message X sent?" with one GetItem.
 * - Release is conditioned on our own claim token, so a slow attempt whose claim already expired
 *   and was taken over cannot delete the new owner's claim.
 * The price is ~150 lines we own; the behaviour is tested against dynalite.
 */

/** Options of {@link DynamoDbDeliveryLedger}. */
export interface DynamoDbDeliveryLedgerOptions {
  client: DynamoDbSender;
  tableName: string;
  /**
   * How long a claim protects a send in progress. A crashed attempt's message is sent again only
   * after this, so make it the function timeout plus a margin (the infra sets it that way).
   * @default 960 (the 900 s Lambda maximum plus 60 s)
   */
  inProgressSeconds?: number;
  /**
   * How long a sent id is remembered (DynamoDB TTL attribute `expiresAt`); redeliveries and
   * re-enqueues of the same id within this window are not sent again.
   * @default 604800 (7 days)
   */
  sentTtlSeconds?: number;
  /** Clock in epoch milliseconds, injectable for tests. @default Date.now */
  now?: () => number;
}

const IN_PROGRESS = 'in-progress';
const SENT = 'sent';
const VERDICT = 'verdict';

/**
 * Delivery ledger on a DynamoDB table (partition key `id`, TTL attribute `expiresAt`).
 * Item: `{ id, status: 'in-progress' | 'sent' | 'verdict', claimToken, inProgressExpiry (ms),
 * verdict, expiresAt (s) }`. A `verdict` item is an outcome waiting for its dead letter: nobody
 * can claim it (no second send) until it is released or expires with the sent TTL.
 * Expiry is checked in the conditions, not left to TTL deletion (which runs up to days late).
 */
export class DynamoDbDeliveryLedger implements DeliveryLedger {
  #client: DynamoDbSender;
  #table: string;
  #inProgressMs: number;
  #sentTtlSeconds: number;
  #now: () => number;
  /** Claim tokens of the claims this instance holds, so `release` only drops its own claim. */
  #tokens = new Map<string, string>();

  constructor(options: DynamoDbDeliveryLedgerOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#inProgressMs = (options.inProgressSeconds ?? 960) * 1000;
    this.#sentTtlSeconds = options.sentTtlSeconds ?? 604_800;
    this.#now = options.now ?? Date.now;
  }

  async claim(id: string): Promise<LedgerClaim> {
    // A record can vanish between a failed put and the read (release, TTL), so try a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomUUID();
      if (await this.#tryClaim(id, token)) {
        this.#tokens.set(id, token);
        return 'claimed';
      }
      const current = await this.#read(id);
      if (current !== undefined) return current;
    }
    return 'in-progress';
  }

  async complete(id: string): Promise<void> {
    // Unconditional: the server accepted the message, so "sent" is the truth even if our claim
    // expired meanwhile and another attempt holds it (that attempt is the documented duplicate window).
    await this.#close(id, SENT);
  }

  async settle(id: string, verdict: string): Promise<void> {
    await this.#close(id, VERDICT, verdict);
  }

  /** Ends a claim: the item is `sent`, or holds a verdict; either is remembered for the sent TTL. */
  async #close(id: string, status: typeof SENT | typeof VERDICT, verdict?: string): Promise<void> {
    const now = this.#now();
    const at = status === SENT ? 'sentAt' : 'settledAt';
    const set = ['#status = :status', `${at} = :now`, 'expiresAt = :expiresAt'];
    const remove = ['inProgressExpiry', 'claimToken'];
    if (verdict === undefined) remove.push('verdict');
    else set.push('verdict = :text');
    await this.#client.send(
      new (await dynamoDbSdk()).UpdateItemCommand({
        TableName: this.#table,
        Key: { id: { S: id } },
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': { S: status },
          ':now': { N: String(now) },
          ':expiresAt': { N: String(Math.ceil(now / 1000) + this.#sentTtlSeconds) },
          ...(verdict !== undefined && { ':text': { S: verdict } }),
        },
      }),
    );
    this.#tokens.delete(id);
  }

  async release(id: string): Promise<void> {
    const token = this.#tokens.get(id);
    this.#tokens.delete(id);
    // Our own claim, or a verdict (whoever settled it: the attempt that carried it out releases it).
    const condition: { expression: string; values: Record<string, AttributeValue> } =
      token === undefined
        ? { expression: '#status = :verdict', values: { ':verdict': { S: VERDICT } } }
        : {
            expression: '#status = :inProgress AND claimToken = :token',
            values: { ':inProgress': { S: IN_PROGRESS }, ':token': { S: token } },
          };
    try {
      await this.#client.send(
        new (await dynamoDbSdk()).DeleteItemCommand({
          TableName: this.#table,
          Key: { id: { S: id } },
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: condition.values,
        }),
      );
    } catch (error) {
      // Someone else owns the record now (our claim expired and was taken over, or it was sent).
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async #tryClaim(id: string, token: string): Promise<boolean> {
    const now = this.#now();
    const inProgressExpiry = now + this.#inProgressMs;
    try {
      await this.#client.send(
        new (await dynamoDbSdk()).PutItemCommand({
          TableName: this.#table,
          Item: {
            id: { S: id },
            status: { S: IN_PROGRESS },
            claimToken: { S: token },
            claimedAt: { N: String(now) },
            inProgressExpiry: { N: String(inProgressExpiry) },
            // Abandoned claims are cleaned up by TTL a day after they stop mattering.
            expiresAt: { N: String(Math.ceil(inProgressExpiry / 1000) + 86_400) },
          },
          ConditionExpression:
            'attribute_not_exists(id)' +
            ' OR (#status = :inProgress AND inProgressExpiry < :nowMs)' +
            ' OR (#status IN (:sent, :verdict) AND expiresAt < :nowSec)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':inProgress': { S: IN_PROGRESS },
            ':sent': { S: SENT },
            ':verdict': { S: VERDICT },
            ':nowMs': { N: String(now) },
            ':nowSec': { N: String(Math.floor(now / 1000)) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** The live state of `id`, or undefined when there is none (absent or expired). */
  async #read(id: string): Promise<Exclude<LedgerClaim, 'claimed'> | undefined> {
    const { Item } = await this.#client.send(
      new (await dynamoDbSdk()).GetItemCommand({
        TableName: this.#table,
        Key: { id: { S: id } },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const now = this.#now();
    const live = Number(Item.expiresAt?.N ?? 0) >= Math.floor(now / 1000);
    switch (Item.status?.S) {
      case SENT:
        return live ? 'already-sent' : undefined;
      case VERDICT:
        return live ? { verdict: Item.verdict?.S ?? '' } : undefined;
      default: {
        const until = Number(Item.inProgressExpiry?.N ?? 0);
        return until >= now ? { inProgressUntil: until } : undefined;
      }
    }
  }
}
