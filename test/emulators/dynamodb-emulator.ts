import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A running dynalite (DynamoDB implementation in Node) on 127.0.0.1 with a client pointed at it. */
export interface DynamoDbEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  client: DynamoDBClient;
  /**
   * Creates an on-demand table with the string partition key `id`, the shape of both the delivery
   * ledger and the rate-limit table in `infra/mail-sender.ts`. dynalite has no `UpdateTimeToLive`
   * and never expires items, which is fine: the ledger and limiter compare expiry times themselves
   * (real DynamoDB TTL deletes lazily, up to days late, so correctness must not rely on it anyway).
   */
  createTable(name: string): Promise<string>;
  stop(): Promise<void>;
}

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite is CommonJS without type declarations; this is the one function we use.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface DynamoDbEmulatorOptions {
  /** @default 'us-east-1' */
  region?: string;
  /**
   * Sees every request as it arrives (operation, e.g. `UpdateItem`, and its JSON input), before
   * dynalite runs it: the soak uses it to know when the ledger recorded a send.
   */
  onRequest?: (operation: string, input: Record<string, unknown>) => void;
}

/** Starts dynalite in this process (in-memory store) on a free port. */
export async function startDynamoDbEmulator(
  options: DynamoDbEmulatorOptions = {},
): Promise<DynamoDbEmulator> {
  const region = options.region ?? 'us-east-1';
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const onRequest = options.onRequest;
  if (onRequest) {
    // Prepended, so our listeners run before dynalite's (which removes all listeners at the end).
    server.prependListener('request', (req: IncomingMessage) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        try {
          onRequest(operation, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          // Not JSON: dynalite answers it with its own error.
        }
      });
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

  return {
    endpoint,
    region,
    client,
    async createTable(name) {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      // Even with createTableMs 0, dynalite flips the table to ACTIVE on a timer; there is no
      // event to await, so poll (a few ms).
      for (let i = 0; i < 200; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === 'ACTIVE') return name;
        await delay(5);
      }
      throw new Error(`dynalite table ${name} did not become ACTIVE`);
    },
    async stop() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
