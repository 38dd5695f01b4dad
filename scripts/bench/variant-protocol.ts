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
  /** Messages waiting on the queue, for all instances together (the parent says when to stop). */
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
  /** Sum of each batch's handling time, each rounded up to the ms, as Lambda bills; absent for (b). */
  billedMs?: number;
}

/** Handed to a variant's consume loop. */
export interface ConsumeControl {
  /** Aborted when the parent has seen every message deleted (by this or a sibling instance). */
  stop: AbortSignal;
  /** Call after deleting `sent` messages; the last call ends the timed window. */
  progress(sent: number): void;
}

/** Child → parent, over IPC. */
export type VariantReport =
  | { kind: 'ready' }
  | { kind: 'progress'; sent: number }
  | (ConsumeResult & {
      kind: 'done';
      /** Epoch ms (sub-ms precision) when consuming began, after imports and set-up. */
      startedAt: number;
      /** Epoch ms of the last delete. */
      endedAt: number;
      /** User + system CPU while consuming. */
      cpuMs: number;
      /** `process.resourceUsage().maxRSS`, in KiB: the whole process' peak. */
      maxRssKb: number;
    })
  | { kind: 'failed'; error: string };

/** Parent → child: start consuming (all instances at once), or stop (all messages are gone). */
export type VariantCommand = { kind: 'go' } | { kind: 'stop' };

export const VARIANT_INPUT_ENV = 'BENCH_VARIANT_INPUT';
/** Where a variant writes the CPU profile of its timed window (`--cpu-prof DIR`). */
export const CPU_PROFILE_DIR_ENV = 'BENCH_CPU_PROFILE_DIR';

/**
 * A V8 CPU profile of the timed window only (not the imports and set-up before it, which
 * `node --cpu-prof` would include), written as `<dir>/<pid>.cpuprofile` for Chrome DevTools.
 */
async function startProfile(
  dir: string | undefined,
): Promise<{ stop(): Promise<void> } | undefined> {
  if (!dir) return undefined;
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

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

/** Wall-clock time with sub-millisecond precision, comparable across processes. */
export const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Runs in the child: reads the input, lets the variant prepare (imports, clients: NOT timed, they
 * are cold-start work measured elsewhere), says ready, and on the parent's "go" times `consume`
 * until the parent says "stop"; then reports over IPC.
 */
export async function runVariantChild(
  prepare: (input: VariantInput) => Promise<(control: ConsumeControl) => Promise<ConsumeResult>>,
): Promise<void> {
  const send = (report: VariantReport) =>
    new Promise<void>((resolve) => {
      if (!process.send) throw new Error('run this through npm run bench (needs an IPC channel)');
      process.send(report, () => resolve());
    });
  const stop = new AbortController();
  let go: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    go = resolve;
  });
  process.on('message', (command: VariantCommand) => {
    if (command.kind === 'go') go();
    if (command.kind === 'stop') {
      stop.abort();
      // A sibling failed before the start: nothing to measure, just leave.
      go();
    }
  });
  try {
    const raw = process.env[VARIANT_INPUT_ENV];
    if (!raw) throw new Error(`${VARIANT_INPUT_ENV} is not set: run this through npm run bench`);
    const consume = await prepare(JSON.parse(raw) as VariantInput);
    await send({ kind: 'ready' });
    await started;
    if (stop.signal.aborted) return;
    const profile = await startProfile(process.env[CPU_PROFILE_DIR_ENV]);
    const cpuBefore = process.cpuUsage();
    const startedAt = epochNow();
    let endedAt = startedAt;
    const result = await consume({
      stop: stop.signal,
      progress(sent) {
        endedAt = epochNow();
        void send({ kind: 'progress', sent });
      },
    });
    const cpu = process.cpuUsage(cpuBefore);
    await profile?.stop();
    await send({
      kind: 'done',
      ...result,
      startedAt,
      endedAt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssKb: process.resourceUsage().maxRSS,
    });
  } catch (error) {
    await send({
      kind: 'failed',
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = 1;
  } finally {
    process.disconnect?.();
    // Keep-alive sockets (MSAL, the SDK) may hold the process a few seconds; the figures are sent.
    setTimeout(() => process.exit(), 1_000).unref();
  }
}
