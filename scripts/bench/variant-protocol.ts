/**
 * The contract between the bench (parent) and one variant (a child process). The parent owns the
 * emulators, so their counters belong to exactly one variant; the child owns the consumer, so its
 * CPU time and peak memory are that consumer's alone.
 */

/** Everything a variant needs to reach the emulators; passed as JSON in `BENCH_VARIANT_INPUT`. */
export interface VariantInput {
  queueUrl: string;
  dlqUrl: string;
  sqsEndpoint: string;
  region: string;
  /** Messages waiting on the queue; the variant stops once it has sent and deleted them all. */
  messages: number;
  /** Messages per SQS receive (handler: per invocation). */
  batch: number;
  /** (a): concurrent invocations; (c): pooled connections; (b) ignores it (sequential). */
  concurrency: number;
  smtp: { host: string; port: number };
  oauth: {
    /** `https://127.0.0.1:<port>` */
    authorityHost: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    scope: string;
  };
  /** The mailbox that authenticates and sends. */
  mailbox: string;
}

/** What the variant's consume loop reports; the wrapper adds time, CPU and memory. */
export interface ConsumeResult {
  /** Messages sent and deleted from the queue. */
  sent: number;
  /** Non-empty batches the consumer handled (handler: invocations). */
  batches: number;
}

/** What a child sends back over IPC when it is done. */
export type VariantReport =
  | (ConsumeResult & {
      kind: 'done';
      /** Wall time from the first receive to the last delete, after imports and set-up. */
      elapsedMs: number;
      /** User + system CPU over that window. */
      cpuMs: number;
      /** `process.resourceUsage().maxRSS`, in KiB: the whole process' peak. */
      maxRssKb: number;
    })
  | { kind: 'failed'; error: string };

export const VARIANT_INPUT_ENV = 'BENCH_VARIANT_INPUT';

/** The body every SQS message carries: a minimal, valid message of the project's contract. */
export function benchMessageBody(index: number, mailbox: string): string {
  return JSON.stringify({
    version: 1,
    id: `bench-${index}`,
    from: mailbox,
    to: [`recipient-${index % 7}@example.com`],
    subject: `Benchmark message ${index}`,
    // About 1 KB of text: a typical notification, not an attachment-sized payload.
    text: `Hello,\n\n${'This is a benchmark notification line of plain text. '.repeat(18)}\n\nRegards`,
    tags: { bench: 'true' },
  });
}

/**
 * Runs in the child: reads the input, lets the variant prepare (imports, clients: NOT timed, they
 * are cold-start work measured elsewhere), then times `consume` and reports over IPC.
 */
export async function runVariantChild(
  prepare: (input: VariantInput) => Promise<() => Promise<ConsumeResult>>,
): Promise<void> {
  const send = (report: VariantReport) =>
    new Promise<void>((resolve) => {
      if (process.send) process.send(report, () => resolve());
      else {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        resolve();
      }
    });
  try {
    const raw = process.env[VARIANT_INPUT_ENV];
    if (!raw) throw new Error(`${VARIANT_INPUT_ENV} is not set: run this through npm run bench`);
    const input = JSON.parse(raw) as VariantInput;
    const consume = await prepare(input);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await consume();
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    await send({
      kind: 'done',
      ...result,
      elapsedMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
    });
  } catch (error) {
    await send({
      kind: 'failed',
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = 1;
  }
}
