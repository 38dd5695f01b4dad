/**
 * Runs one variant: fresh token endpoint and Office 365 emulator (so their counters belong to this
 * variant alone), a fresh queue pre-filled with the messages, then the variant in its own child
 * process(es). Checks the run really delivered every message: a bench that silently sends nothing
 * would report wonderful numbers.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { startOffice365Smtp } from '../../test/emulators/office365-smtp.ts';
import type { SqsEmulator } from '../../test/emulators/sqs-emulator.ts';
import { startTokenEndpoint } from '../../test/emulators/token-endpoint.ts';
import type { VariantName } from './options.ts';
import type { VariantResult } from './results.ts';
import {
  benchMessageBody,
  CPU_PROFILE_DIR_ENV,
  VARIANT_INPUT_ENV,
  type VariantCommand,
  type VariantInput,
  type VariantReport,
} from './variant-protocol.ts';

export const BENCH_MAILBOX = 'bench-sender@contoso.example';
export const TOKEN_LIFETIME_SECONDS = 3599;

export const VARIANT_LABELS: Record<VariantName, string> = {
  handler: '(a) this project: functions/sender.ts',
  'handler-pipelining': "(a') the same, server without CHUNKING",
  naive: '(b) naive: new token + transport per message',
  'sqs-consumer': '(c) sqs-consumer + pooled nodemailer',
};

/** The child each variant runs in: (a') is (a) against a server that offers PIPELINING only. */
const VARIANT_FILES: Record<VariantName, string> = {
  handler: 'variant-handler.ts',
  'handler-pipelining': 'variant-handler.ts',
  naive: 'variant-naive.ts',
  'sqs-consumer': 'variant-sqs-consumer.ts',
};

/** (a) runs as Lambda does: one process per concurrent invocation. The peers are one process. */
const ONE_PROCESS_PER_SESSION: readonly VariantName[] = ['handler', 'handler-pipelining'];

export interface MeasureSettings {
  messages: number;
  batch: number;
  /** Network latency on everything the SMTP emulator sends (one of `BenchOptions.delaysMs`). */
  delayMs: number;
  /** SMTP sessions at once for (a) and (c). */
  concurrency: number;
  /** Kill the child after this long: a hung variant is a breakage. */
  timeoutMs: number;
  /** Each variant process writes a V8 CPU profile here. @default none */
  cpuProfileDir?: string;
}

/** A real breakage (not a slow run): the bench exits non-zero on it. */
export class BenchBreakage extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BenchBreakage';
  }
}

export async function measureVariant(
  variant: VariantName,
  settings: MeasureSettings,
  sqs: SqsEmulator,
): Promise<VariantResult> {
  const tokens = await startTokenEndpoint({ tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS });
  const smtp = await startOffice365Smtp({
    tokenEndpoint: tokens,
    mailboxes: { [BENCH_MAILBOX]: {} },
    // The bench measures the client, not Office 365's 30/min throttle.
    ratePerMinute: Number.MAX_SAFE_INTEGER,
    // A far network, not a slow server: every byte the emulator sends (TLS handshake included)
    // arrives this much later and pipelined replies arrive together, as on a real link. The token
    // endpoint gets none, which favours the naive variant (a token per message): conservative.
    networkLatencyMs: settings.delayMs,
    // Exchange Online offers CHUNKING; (a') measures a server that offers PIPELINING alone.
    chunking: variant !== 'handler-pipelining',
  });
  try {
    const { queueUrl, dlqUrl } = await sqs.createQueueWithDlq(`bench-${variant}-${Date.now()}`, {
      maxReceiveCount: 10,
    });
    await fillQueue(sqs, queueUrl, settings.messages);
    const input: VariantInput = {
      queueUrl,
      dlqUrl,
      sqsEndpoint: sqs.endpoint,
      region: sqs.region,
      messages: settings.messages,
      batch: settings.batch,
      concurrency: settings.concurrency,
      smtp: { host: smtp.host, port: smtp.port },
      oauth: {
        authorityHost: tokens.authorityHost,
        tenantId: tokens.tenantId,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'https://outlook.office365.com/.default',
      },
      mailbox: BENCH_MAILBOX,
    };
    const instances = ONE_PROCESS_PER_SESSION.includes(variant) ? settings.concurrency : 1;
    const run = await runInstances(variant, input, instances, settings);
    await verifyDelivered(
      variant,
      sqs,
      { queueUrl, dlqUrl },
      smtp.stats.messages,
      settings.messages,
    );
    return {
      variant,
      label: VARIANT_LABELS[variant],
      delayMs: settings.delayMs,
      parallel: variant === 'naive' ? 1 : settings.concurrency,
      ...run,
      serverFlights: smtp.wire.serverFlights,
      connections: smtp.stats.connections,
      tlsHandshakes: smtp.stats.tlsHandshakes,
      authAttempts: smtp.stats.authAttempts,
      tokenRequests: tokens.tokenRequests,
      smtpCommands: { ...smtp.stats.commands },
      tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS,
    };
  } finally {
    await smtp.stop();
    await tokens.stop();
  }
}

async function fillQueue(sqs: SqsEmulator, queueUrl: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    const entries = [];
    for (let i = start; i < Math.min(count, start + 10); i += 1) {
      entries.push({ Id: String(i), MessageBody: benchMessageBody(i, BENCH_MAILBOX) });
    }
    const result = await sqs.client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    if (result.Failed?.length)
      throw new BenchBreakage(`could not fill the queue: ${JSON.stringify(result.Failed)}`);
  }
}

type DoneReport = Extract<VariantReport, { kind: 'done' }>;

/** The figures of all instances of one variant, as one. */
export interface InstancesResult {
  instances: number;
  sent: number;
  batches: number;
  /** From the first instance's start to the last instance's last delete. */
  elapsedMs: number;
  /** Summed over instances. */
  cpuMs: number;
  /** The largest instance's peak (each instance is its own process, as a Lambda sandbox). */
  maxRssKb: number;
  /** Summed over instances; undefined when the variant does not measure it. */
  billedMs: number | undefined;
}

function forkInstance(file: string, input: VariantInput, cpuProfileDir?: string): ChildProcess {
  return fork(file, [], {
    env: {
      ...process.env,
      [VARIANT_INPUT_ENV]: JSON.stringify(input),
      ...(cpuProfileDir && { [CPU_PROFILE_DIR_ENV]: cpuProfileDir }),
      AWS_REGION: input.region,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
    // The variants' own logs are not the bench's output; keep the tail of stderr for errors.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

/** Resolves with the child's final figures; rejects with why it has none. */
function finalReport(
  child: ChildProcess,
  name: string,
  timeoutMs: number,
  onReport: (report: VariantReport) => void,
): Promise<DoneReport> {
  return new Promise<DoneReport>((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let last: VariantReport | undefined;
    child.on('message', (report: VariantReport) => {
      last = report;
      onReport(report);
    });
    child.on('exit', (code, signal) => {
      if (last?.kind === 'done') return resolve(last);
      const why =
        last?.kind === 'failed'
          ? last.error
          : signal === 'SIGKILL'
            ? `no result within ${timeoutMs / 1000} s`
            : `exited with ${code ?? signal} and no result`;
      reject(new BenchBreakage(`variant ${name} failed: ${why}\n--- stderr (tail) ---\n${stderr}`));
    });
  });
}

/**
 * Starts `instances` children, lets them all set up, starts them together, and stops them all
 * once `input.messages` were deleted between them.
 */
async function runInstances(
  variant: VariantName,
  input: VariantInput,
  instances: number,
  { timeoutMs, cpuProfileDir }: Pick<MeasureSettings, 'timeoutMs' | 'cpuProfileDir'>,
): Promise<InstancesResult> {
  const file = fileURLToPath(new URL(`./${VARIANT_FILES[variant]}`, import.meta.url));
  const children = Array.from({ length: instances }, () =>
    forkInstance(file, input, cpuProfileDir),
  );
  const tell = (command: VariantCommand) => {
    for (const child of children) if (child.connected) child.send(command);
  };
  let ready = 0;
  let deleted = 0;
  const onReport = (report: VariantReport) => {
    if (report.kind === 'ready') {
      ready += 1;
      if (ready === instances) tell({ kind: 'go' });
    }
    if (report.kind === 'progress') {
      deleted += report.sent;
      if (deleted >= input.messages) tell({ kind: 'stop' });
    }
    if (report.kind === 'failed') tell({ kind: 'stop' });
  };
  const timer = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const reports = await Promise.all(
      children.map((child, index) =>
        finalReport(
          child,
          instances > 1 ? `${variant} (instance ${index + 1})` : variant,
          timeoutMs,
          onReport,
        ),
      ),
    );
    return combine(reports);
  } finally {
    clearTimeout(timer);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Instances ran side by side: time spans all of them, CPU adds up, memory is per process. */
function combine(reports: DoneReport[]): InstancesResult {
  return {
    instances: reports.length,
    sent: sum(reports.map((r) => r.sent)),
    batches: sum(reports.map((r) => r.batches)),
    elapsedMs:
      Math.max(...reports.map((r) => r.endedAt)) - Math.min(...reports.map((r) => r.startedAt)),
    cpuMs: sum(reports.map((r) => r.cpuMs)),
    maxRssKb: Math.max(...reports.map((r) => r.maxRssKb)),
    billedMs: reports.every((r) => r.billedMs !== undefined)
      ? sum(reports.map((r) => r.billedMs ?? 0))
      : undefined,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function verifyDelivered(
  variant: VariantName,
  sqs: SqsEmulator,
  queues: { queueUrl: string; dlqUrl: string },
  received: number,
  expected: number,
): Promise<void> {
  if (received !== expected) {
    throw new BenchBreakage(
      `variant ${variant}: the SMTP emulator got ${received} of ${expected} messages`,
    );
  }
  for (const [name, url] of Object.entries(queues)) {
    const { Attributes = {} } = await sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const left =
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (left !== 0)
      throw new BenchBreakage(`variant ${variant}: ${left} messages left on the ${name}`);
  }
}
