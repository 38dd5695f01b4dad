/**
 * Everything the sender talks to, on 127.0.0.1: fauxqs (queue + DLQ), the Entra-like token
 * endpoint, the Office 365-like SMTP server and dynalite with the ledger and rate-limit tables,
 * plus the environment that points the real handler at them. Shared by the soak and the
 * running-out-of-time tests.
 */
import { type DynamoDbEmulator, startDynamoDbEmulator } from '../emulators/dynamodb-emulator.ts';
import { type GraphEmulator, startGraphEmulator } from '../emulators/graph-emulator.ts';
import { type Office365Smtp, startOffice365Smtp } from '../emulators/office365-smtp.ts';
import { type SqsEmulator, startSqsEmulator } from '../emulators/sqs-emulator.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../emulators/token-endpoint.ts';
import {
  graphSoakServer,
  type SoakServer,
  type SoakTransport,
  smtpSoakServer,
} from './soak-server.ts';

export const LEDGER_TABLE = 'mail-ledger';
export const RATE_TABLE = 'mail-rate';
export const WORLD_SENDER = 'sender@contoso.example';

export interface MailWorldOptions {
  /** The door the sender drives (`MAIL_TRANSPORT`). @default 'smtp' */
  transport?: SoakTransport;
  functionTimeoutMs: number;
  /** `SMTP_SOCKET_TIMEOUT_MS`. */
  socketTimeoutMs: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Sender budget (`MAIL_RATE_*`); the server's own minute limit is set just above it. */
  rate: { perWindow: number; windowSeconds: number; marginSeconds: number };
  /** `MAIL_RETRY_TIME_SCALE`. */
  retryTimeScale: number;
  /**
   * Exchange's 3 connections per mailbox, enforced by the server (`432 4.3.2`), and the guards that
   * keep the sender under it and out of the DLQ: the connection lease and the circuit breaker, in
   * the rate-limit table (`MAIL_STATE_TABLE`). @default false
   */
  connectionCap?: boolean;
  /** Sees dynalite requests (operation, JSON input) before they run. */
  onDynamoRequest?: (operation: string, input: Record<string, unknown>) => void;
}

export interface MailWorld {
  sqs: SqsEmulator;
  dynamo: DynamoDbEmulator;
  smtp: Office365Smtp;
  /** Running with `transport: 'graph'`. */
  graph?: GraphEmulator;
  /** The server of the chosen door. */
  server: SoakServer;
  token: TokenEndpoint;
  queueUrl: string;
  dlqUrl: string;
  /** The sender's environment: SPEC variables plus endpoints, ledger and rate limiter. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startMailWorld(o: MailWorldOptions): Promise<MailWorld> {
  const dynamo = await startDynamoDbEmulator({ onRequest: o.onDynamoRequest });
  const sqs = await startSqsEmulator();
  const token = await startTokenEndpoint();
  const { perWindow, windowSeconds, marginSeconds } = o.rate;
  // The server's minute limit sits just above what the limiter allows in any minute, so every
  // 421 the server answers on its own is a limiter failure.
  const serverRate = perWindow * (Math.ceil(60 / (windowSeconds + marginSeconds)) + 1);
  const smtp = await startOffice365Smtp({
    tokenEndpoint: token,
    ratePerMinute: serverRate,
    ...(o.connectionCap && { connectionsPerMailbox: 3 }),
  });
  // The app's Graph right on the mailbox comes from RBAC for Applications, as docs/doors.md sets it up.
  const graph =
    o.transport === 'graph'
      ? await startGraphEmulator({
          tokenEndpoint: token,
          rbac: { 'test-client': { mailSend: [WORLD_SENDER] } },
        })
      : undefined;
  const server = graph ? graphSoakServer(graph) : smtpSoakServer(smtp);
  const stop = async () => {
    await graph?.stop();
    await smtp.stop();
    await token.stop();
    await sqs.stop();
    await dynamo.stop();
  };
  try {
    await dynamo.createTable(LEDGER_TABLE);
    await dynamo.createTable(RATE_TABLE);
    const { queueUrl, dlqUrl } = await sqs.createQueueWithDlq('mail', {
      maxReceiveCount: o.maxReceiveCount,
      attributes: { VisibilityTimeout: String(o.visibilityTimeoutSeconds) },
    });
    const env = {
      MAIL_DLQ_URL: dlqUrl,
      MAIL_QUEUE_URL: queueUrl,
      MAIL_SENDER: WORLD_SENDER,
      SMTP_HOST: smtp.host,
      SMTP_PORT: String(smtp.port),
      SMTP_AUTH: 'oauth2',
      SMTP_SOCKET_TIMEOUT_MS: String(o.socketTimeoutMs),
      O365_TENANT_ID: token.tenantId,
      O365_CLIENT_ID: 'test-client',
      O365_CLIENT_SECRET: 'test-secret',
      O365_AUTHORITY_HOST: token.authorityHost,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      MAIL_LEDGER_TABLE: LEDGER_TABLE,
      // A claim outlives any invocation that could still hold it.
      MAIL_LEDGER_IN_PROGRESS_SECONDS: String(Math.ceil(o.functionTimeoutMs / 1000) + 1),
      MAIL_RATE_TABLE: RATE_TABLE,
      MAIL_RATE_PER_MINUTE: String(perWindow),
      MAIL_RATE_WINDOW_SECONDS: String(windowSeconds),
      MAIL_RATE_WINDOW_MARGIN_SECONDS: String(marginSeconds),
      MAIL_RATE_MAX_WAIT_SECONDS: '1',
      MAIL_RETRY_TIME_SCALE: String(o.retryTimeScale),
      POWERTOOLS_LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...(o.connectionCap && {
        MAIL_STATE_TABLE: RATE_TABLE,
        MAIL_MAX_CONNECTIONS: '3',
        // A lease outlives any invocation that holds it; a killed sandbox's lapses soon after.
        MAIL_CONNECTION_LEASE_SECONDS: String(Math.ceil(o.functionTimeoutMs / 1000) + 2),
        MAIL_CONNECTION_WAIT_SECONDS: '2',
        // Time-compressed like the rest: a killed sandbox's idle session holds its slot 10 s, not 65.
        SMTP_KEEPALIVE_SECONDS: '5',
      }),
      ...(graph && {
        MAIL_TRANSPORT: 'graph',
        O365_GRAPH_ENDPOINT: graph.endpoint,
        MAIL_GRAPH_TIMEOUT_MS: String(o.socketTimeoutMs),
      }),
    };
    return { sqs, dynamo, smtp, graph, server, token, queueUrl, dlqUrl, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
