/**
 * Assembles the sender from its configuration, once per cold start: config with secrets, the MSAL
 * token provider (its cache lives as long as this object: tokens survive warm invocations), the SQS
 * client (created on its first use), the door into Exchange Online (`lib/transport/mail-transport.ts`:
 * SMTP with its authenticated connection kept between batches, `SMTP_KEEPALIVE_SECONDS`, or Graph)
 * and, only when a message needs it, the S3 client. Nothing here holds per-invocation state: each
 * batch gets its own session from `processBatch`, and what it learns (a configuration stop, a
 * server that is down) ends with it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import { createTokenProvider } from '../auth/token-provider.ts';
import { awsClientConfig } from '../config/aws-client-config.ts';
import { credentialExpiry } from '../config/credential-expiry.ts';
import { loadSenderConfigWithSecrets } from '../config/secrets.ts';
import type { SenderConfigResult } from '../config/sender-config.ts';
import { dynamoDbSdk } from '../guards/dynamodb-sdk.ts';
import { deliveryGuardsFromEnv } from '../guards/ledger/delivery-guards-from-env.ts';
import { createMailTransport } from '../transport/mail-transport.ts';
import type { DeliveryLedger, SendRateLimiter } from '../types.ts';
import type { BatchResult, ProcessedRecord } from './batch-outcome.ts';
import { s3ObjectFetcher } from './compose-mail.ts';
import { lazySqsClient } from './lazy-sqs-client.ts';
import {
  countMetric,
  createObservability,
  flushMetrics,
  METRIC,
  messageKeys,
  type Observability,
  reportCredentialExpiry,
} from './observability.ts';
import { type BatchContext, type BatchDeps, processBatch } from './process-batch.ts';
import { peekMailId } from './process-record.ts';
import { configErrorMessage } from './report-outcome.ts';

/** What a warm Lambda keeps between invocations. */
export interface SenderRuntime {
  /** `false` when the configuration could not be loaded: every batch is retried, nothing sent. */
  ready: boolean;
  processBatch(records: readonly SQSRecord[], context: BatchContext): Promise<BatchResult>;
  /**
   * QUITs an SMTP session kept for the next batch (a local pipeline or test stopping). A Lambda
   * never calls it: a frozen or recycled sandbox cannot, which the keep-alive window allows for.
   */
  close(): Promise<void>;
}

export interface SenderRuntimeOptions {
  observability?: Observability;
  /** @default from `MAIL_LEDGER_TABLE` (`lib/guards/ledger/`); no table = no ledger */
  ledger?: DeliveryLedger;
  /** @default from `MAIL_RATE_TABLE` (`lib/guards/rate-limit/`); no table = no rate limit */
  rateLimiter?: SendRateLimiter;
  /**
   * Read the secret now instead of from the cache (a rebuild after a configuration error or a
   * pause: someone may just have fixed it). @default false
   */
  freshSecrets?: boolean;
}

/** Time kept to delay retries and answer the event source after the last send. */
export const REPORTING_MARGIN_MS = 2_000;
/**
 * The longest single send the deadline check plans for. A send normally takes well under a second
 * (about four round trips); this covers a slow server, not a dead one. Planning for the full socket
 * timeout (30 s by default) would leave half of a 60 s function unused on every batch, and a server
 * that stalls past this is cut off by the Lambda timeout anyway: the batch then returns to the
 * queue whole (the delivery ledger keeps the messages already sent from going out twice).
 */
export const PLANNED_SEND_MS = 8_000;

/** Room to keep before the deadline when starting a send. */
export function sendSafetyMarginMs(socketTimeoutMs: number): number {
  return Math.min(socketTimeoutMs, PLANNED_SEND_MS) + REPORTING_MARGIN_MS;
}

export async function createSenderRuntime(
  env: NodeJS.ProcessEnv,
  options: SenderRuntimeOptions = {},
): Promise<SenderRuntime> {
  const observability = options.observability ?? createObservability(env);
  try {
    return await assemble(env, options, observability);
  } catch (err) {
    // Building clients should not fail; if it does, it is still "the sender is broken": keep the
    // messages on the queue and say so once, rather than failing invocations with a stack trace.
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return configFailureRuntime([`the sender could not start (${detail})`], observability);
  }
}

async function assemble(
  env: NodeJS.ProcessEnv,
  options: SenderRuntimeOptions,
  observability: Observability,
): Promise<SenderRuntime> {
  // The DynamoDB client is loaded on first use (lib/guards/dynamodb-sdk.ts); when a guard table is
  // configured that use is certain, so its loading starts now and overlaps the secret's fetch.
  if (['MAIL_LEDGER_TABLE', 'MAIL_RATE_TABLE', 'MAIL_STATE_TABLE'].some((name) => env[name])) {
    dynamoDbSdk().catch(() => undefined);
  }
  const loaded = await loadSenderConfigWithSecrets(env, { forceFetch: options.freshSecrets });
  if (!loaded.ok) return configFailureRuntime(loaded.problems, observability);
  reportCredentialExpiry(observability, credentialExpiry(loaded.config));
  for (const warning of loaded.warnings) observability.logger.warn(warning);
  const guards = deliveryGuardsFromEnv(env);
  if (!guards.ok) return configFailureRuntime(guards.problems, observability);
  const config = loaded.config;
  const aws = awsClientConfig(env, [config.queueUrl, config.dlqUrl]);
  const clientConfig = {
    ...(aws.region ? { region: aws.region } : {}),
    ...(aws.credentials ? { credentials: aws.credentials } : {}),
  };
  const sqs = lazySqsClient(clientConfig);
  const tokenProvider = config.oauth ? createTokenProvider(config.oauth) : undefined;
  let s3: S3Client | undefined;
  // Loaded on the first attachment from S3, not at cold start; in Lambda it comes from the
  // runtime's SDK (infra/sender-bundling.ts, RUNTIME_MODULES).
  const fetchS3 = async (location: { bucket: string; key: string }) => {
    if (!s3) {
      const { S3Client: Client } = await import('@aws-sdk/client-s3');
      s3 = new Client(clientConfig);
    }
    return s3ObjectFetcher(s3)(location);
  };

  // processBatch logs every outcome once, with the message ids and the fix for a configuration
  // error; the session's own warnings and errors are connection detail, kept at debug so the error
  // stays single. Opening and retiring a session are INFO (rare with a kept session), reuse DEBUG.
  const { logger } = observability;
  const sessionLogger = {
    debug: (message: string, attributes?: Record<string, unknown>) =>
      logger.debug(message, attributes ?? {}),
    info: (message: string, attributes?: Record<string, unknown>) =>
      logger.info(message, attributes ?? {}),
    warn: (message: string, attributes?: Record<string, unknown>) =>
      logger.debug(message, attributes ?? {}),
    error: (message: string, attributes?: Record<string, unknown>) =>
      logger.debug(message, attributes ?? {}),
  };
  const rateLimiter = options.rateLimiter ?? guards.rateLimiter;
  const transport = createMailTransport(config, tokenProvider, {
    logger: sessionLogger,
    lease: guards.connectionLease,
  });
  const deps: BatchDeps = {
    settings: {
      dlqUrl: config.dlqUrl,
      queueUrl: config.queueUrl,
      sqsEndpoint: aws.sqsEndpoint,
      sender: config.sender,
      allowedFrom: config.allowedFrom,
      // A limiter may hold a send back for a near slot inside the invocation: keep that time too.
      safetyMarginMs: sendSafetyMarginMs(transport.sendTimeoutMs) + (rateLimiter?.maxWaitMs ?? 0),
      // The first send may wait for a free connection slot (later ones use its connection).
      sessionWaitMs: transport.sessionWaitMs,
    },
    sqs,
    openSession: () => transport.openSession(),
    classifyFailure: (err) => transport.classifyFailure(err),
    fetchS3Object: fetchS3,
    ledger: options.ledger ?? guards.ledger,
    rateLimiter,
    logger: observability.logger,
    metrics: observability.metrics,
  };
  return {
    ready: true,
    processBatch: (records, context) => processBatch(records, deps, context),
    close: () => transport.close(),
  };
}

/**
 * The configuration is broken: send nothing, leave every record on the queue (its visibility
 * timeout paces the retries), and say once, clearly, what to fix.
 */
function configFailureRuntime(problems: string[], observability: Observability): SenderRuntime {
  const { logger, metrics } = observability;
  const reason = configProblemsReason(problems);
  return {
    ready: false,
    close: async () => undefined,
    async processBatch(records) {
      logger.error(configErrorMessage(reason, CONFIG_PROBLEMS_FIX), {
        problems,
        records: records.length,
      });
      const processed: ProcessedRecord[] = records.map((record) => ({
        sqsMessageId: record.messageId,
        mailId: peekMailId(record),
        outcome: { kind: 'retry', cause: 'config', reason, delaySeconds: 0 },
      }));
      for (const p of processed) {
        logger.info('will retry', { ...messageKeys(p.mailId, p.sqsMessageId), cause: 'config' });
      }
      countMetric(metrics, METRIC.configErrors);
      countMetric(metrics, METRIC.retried, processed.length);
      flushMetrics(metrics);
      return {
        records: processed,
        batchItemFailures: processed.map((p) => ({ itemIdentifier: p.sqsMessageId })),
        configError: { reason, fix: CONFIG_PROBLEMS_FIX },
      };
    },
  };
}

const CONFIG_PROBLEMS_FIX = 'set the environment variables (or the secret) named above.';

function configProblemsReason(problems: readonly string[]): string {
  return `the sender configuration is invalid: ${problems.map((p) => p.replace(/[.\s]+$/, '')).join('; ')}`;
}

/** What a probe of the sender's configuration found. */
export type SenderProbeResult = { ok: true } | { ok: false; reason: string; fix: string };

/**
 * The circuit breaker's probe: with the configuration as a cold start would load it (`loaded`,
 * the secret read anew), sets up what a batch would — for SMTP token, connect, TLS, AUTH under a
 * connection lease, then QUIT; for Graph a token — and sends no mail.
 */
export async function probeSender(
  env: NodeJS.ProcessEnv,
  loaded: SenderConfigResult,
): Promise<SenderProbeResult> {
  const guards = loaded.ok ? deliveryGuardsFromEnv(env) : undefined;
  if (!loaded.ok || !guards?.ok) {
    const problems = !loaded.ok ? loaded.problems : guards && !guards.ok ? guards.problems : [];
    return { ok: false, reason: configProblemsReason(problems), fix: CONFIG_PROBLEMS_FIX };
  }
  const { config } = loaded;
  const tokens = config.oauth ? createTokenProvider(config.oauth) : undefined;
  const transport = createMailTransport(config, tokens, { lease: guards.connectionLease });
  const outcome = await transport.probe();
  switch (outcome.kind) {
    case 'ok':
      return { ok: true };
    case 'config':
      return { ok: false, reason: outcome.reason, fix: outcome.fix };
    case 'retry':
      return {
        ok: false,
        reason: outcome.reason,
        fix: 'none while it lasts: the next probe tries again.',
      };
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown probe outcome ${JSON.stringify(unreachable)}`);
    }
  }
}
