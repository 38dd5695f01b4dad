import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { retryTimeScale } from '../delivery/backoff.ts';
import { PROBE_EVENT, type ProbeReport } from '../delivery/sender-lambda.ts';
import { FileBreakerStore } from '../guards/breaker/file-breaker-store.ts';
import {
  type CaptureSmtpServer,
  DEMO_REFUSALS,
  DEMO_THROTTLES,
  startCaptureSmtpServer,
} from './capture-smtp-server.ts';
import {
  InFlightRecords,
  type MessageOutcome,
  outcomesOf,
  watchRedriveExhaustion,
} from './delivery-outcomes.ts';
import { type EmbeddedSqs, startEmbeddedSqs } from './embedded-sqs.ts';
import { createLambdaContext } from './lambda-sqs-event.ts';
import { ensureLocalCertificate } from './local-certificate.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_DLQ_NAME,
  LOCAL_FUNCTION_TIMEOUT_MS,
  LOCAL_OUTBOX_DIR,
  LOCAL_PROBE_INTERVAL_MS,
  LOCAL_QUEUE_NAME,
  LOCAL_REGION,
  LOCAL_SENDER,
  LOCAL_SQS_PORT,
  LOCAL_TLS_DIR,
  localQueueUrl,
} from './local-defaults.ts';
import type { LocalPipelineState } from './local-state.ts';
import { type SenderLogTap, tapSenderLogs } from './sender-log-tap.ts';
import {
  createSqsEventSource,
  type SqsEventSource,
  type SqsLambdaHandler,
} from './sqs-event-source.ts';
import { usesConfiguredSmtp } from './uses-configured-smtp.ts';

/** Options of {@link startLocalPipeline}. */
export interface LocalPipelineOptions {
  /** Port of the embedded SQS emulator; 0 picks a free one. @default 4566 */
  sqsPort?: number;
  /** `capture` = the local capture server; `smtp` = the server `.env` configures (real Office 365). @default from the environment, see {@link usesConfiguredSmtp} */
  smtp?: 'capture' | 'smtp';
  /** Where the capture server saves `.eml` files. @default 'outbox' */
  outboxDir?: string;
  /** @default '.local/tls' */
  tlsDir?: string;
  /**
   * The circuit breaker's state (`MAIL_BREAKER_FILE`), emptied at start: a fresh pipeline runs.
   * @default 'breaker.json' next to `tlsDir`
   */
  breakerFile?: string;
  /**
   * Multiplies the sender's retry delays (`MAIL_RETRY_TIME_SCALE`, see lib/delivery/backoff.ts), so a
   * demo shows a retry within seconds instead of the production 30 s to 15 min.
   * @default `MAIL_RETRY_TIME_SCALE` from the environment, else 1 (production delays)
   */
  retryTimeScale?: number;
  /** Parallel invocations, as the mapping's maximum concurrency. @default 2 (the stack's) */
  concurrency?: number;
  /** Print the sender's own JSON log lines too. @default false */
  verbose?: boolean;
  /** Called once per delivery outcome, as it happens. */
  onOutcome?: (outcome: MessageOutcome) => void;
}

export type { MessageOutcome } from './delivery-outcomes.ts';

export interface LocalPipeline {
  sqs: EmbeddedSqs;
  capture?: CaptureSmtpServer;
  /** What the `o365-mail` command line needs to find this pipeline. */
  state: LocalPipelineState;
  stop(): Promise<void>;
}

/**
 * Starts the whole pipeline in this process: fauxqs with the mail queue and DLQ, the capture
 * SMTP server (or the configured one), and the event-source poller running the real
 * `functions/sender.ts` handler. The handler reads `process.env`, so this sets the sender's
 * variables first; in capture mode this process must already trust the local CA
 * (`NODE_EXTRA_CA_CERTS`, see local-ca-reexec.ts): certificates are always verified.
 */
export async function startLocalPipeline(
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const mode = options.smtp ?? (usesConfiguredSmtp(process.env) ? 'smtp' : 'capture');
  const outboxDir = resolve(options.outboxDir ?? LOCAL_OUTBOX_DIR);
  const sqs = await startEmbeddedSqs(options.sqsPort ?? LOCAL_SQS_PORT);
  const stoppers: (() => Promise<void>)[] = [() => sqs.stop()];
  try {
    const capture = mode === 'capture' ? await startCapture(options, outboxDir) : undefined;
    if (capture) stoppers.push(() => capture.stop());
    const breakerFile = resolve(
      options.breakerFile ??
        join(dirname(resolve(options.tlsDir ?? LOCAL_TLS_DIR)), 'breaker.json'),
    );
    rmSync(breakerFile, { force: true });
    setSenderEnvironment(sqs.endpoint, capture, breakerFile);
    if (options.retryTimeScale !== undefined) {
      process.env.MAIL_RETRY_TIME_SCALE = String(options.retryTimeScale);
    }
    const { handler, closeSenderSession } = (await import('../../functions/sender.ts')) as {
      handler: SqsLambdaHandler &
        ((event: typeof PROBE_EVENT, context: unknown) => Promise<ProbeReport>);
      closeSenderSession: () => Promise<void>;
    };
    const tap = tapSenderLogs({ verbose: options.verbose });
    stoppers.push(async () => tap.restore());
    // After the poller stops, before the SMTP server does: the sender keeps its session between
    // batches, and a server's close would wait for it.
    stoppers.push(closeSenderSession);
    const report = (outcome: MessageOutcome) => options.onOutcome?.(outcome);
    const inFlight = new InFlightRecords();
    const breaker = new FileBreakerStore(breakerFile);
    const source = startEventSource(
      sqs,
      handler,
      { tap, inFlight, report },
      options.concurrency ?? 2,
      async () => (await breaker.read()).paused,
    );
    stoppers.push(() => source.stop());
    // The stack's scheduled probe: resumes consuming once the sender gets through again.
    const probeEvery = Math.max(500, LOCAL_PROBE_INTERVAL_MS * retryTimeScale());
    const probe = setInterval(() => {
      void handler(PROBE_EVENT, createLambdaContext('o365-mail-probe-local', 60_000, LOCAL_REGION));
    }, probeEvery);
    probe.unref();
    stoppers.push(async () => clearInterval(probe));
    const watcher = watchRedriveExhaustion(sqs, inFlight, report);
    stoppers.push(watcher.stop);

    const state = { ...pipelineState(sqs, capture, outboxDir), breakerFile };
    return { sqs, capture, state, stop: () => stopAll(stoppers) };
  } catch (error) {
    await stopAll(stoppers);
    throw error;
  }
}

function startCapture(
  options: LocalPipelineOptions,
  outboxDir: string,
): Promise<CaptureSmtpServer> {
  return startCaptureSmtpServer({
    outboxDir,
    tls: ensureLocalCertificate(resolve(options.tlsDir ?? LOCAL_TLS_DIR)),
    refuseRecipients: DEMO_REFUSALS,
    throttleFirstAttempt: DEMO_THROTTLES,
  });
}

function pipelineState(
  sqs: EmbeddedSqs,
  capture: CaptureSmtpServer | undefined,
  outboxDir: string,
): LocalPipelineState {
  return {
    version: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    sqsEndpoint: sqs.endpoint,
    region: LOCAL_REGION,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    smtp: capture
      ? { kind: 'capture', host: capture.host, port: capture.port, outboxDir }
      : {
          kind: 'smtp',
          host: process.env.SMTP_HOST ?? 'smtp.office365.com',
          port: Number(process.env.SMTP_PORT ?? 587),
        },
  };
}

/** Stops in reverse order of start: poller before SMTP before SQS. */
async function stopAll(stoppers: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
}

/** @param sqsEndpoint where the sender's SQS calls go: the emulator, or the retry-delay cap in front of it. */
function setSenderEnvironment(
  sqsEndpoint: string,
  capture: CaptureSmtpServer | undefined,
  breakerFile: string,
): void {
  const env = process.env;
  env.MAIL_BREAKER_FILE = breakerFile;
  env.MAIL_QUEUE_URL = localQueueUrl(sqsEndpoint, LOCAL_QUEUE_NAME);
  env.MAIL_DLQ_URL = localQueueUrl(sqsEndpoint, LOCAL_DLQ_NAME);
  // The same origin as the queue URLs, or the SDK warns that they differ on every call.
  env.AWS_ENDPOINT_URL_SQS = sqsEndpoint;
  env.AWS_REGION = LOCAL_REGION;
  // The sender's SQS client signs its calls; fauxqs checks nothing, so these never leave the machine.
  env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  // INFO: the per-record lines feed the outcome printer (sender-log-tap.ts). Metrics are not
  // published anywhere locally; their EMF lines would only clutter the terminal.
  env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  if (!capture) return;
  env.MAIL_SENDER ||= LOCAL_SENDER;
  env.SMTP_HOST = capture.host;
  env.SMTP_PORT = String(capture.port);
  env.SMTP_TLS = 'starttls';
  env.SMTP_AUTH = 'none';
  delete env.MAIL_SECRET_ARN;
}

function startEventSource(
  sqs: EmbeddedSqs,
  handler: SqsLambdaHandler,
  seen: {
    tap: SenderLogTap;
    inFlight: InFlightRecords;
    report: (outcome: MessageOutcome) => void;
  },
  concurrency: number,
  isPaused: () => Promise<boolean>,
): SqsEventSource {
  const attributed = new Set<string>();
  const source = createSqsEventSource({
    sqs: sqs.client,
    queueUrl: sqs.queueUrl,
    region: LOCAL_REGION,
    handler: (event: SQSEvent, context) => {
      for (const record of event.Records) seen.inFlight.add(record.messageId);
      return handler(event, context) as Promise<SQSBatchResponse | undefined>;
    },
    functionTimeoutMs: LOCAL_FUNCTION_TIMEOUT_MS,
    concurrency,
    isPaused,
    onBatch(batch) {
      for (const outcome of outcomesOf(batch, sqs, seen.tap, attributed)) seen.report(outcome);
      for (const record of batch.records) seen.inFlight.settle(record.messageId);
    },
  });
  source.start();
  return source;
}
