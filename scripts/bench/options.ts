import { parseArgs } from 'node:util';

/** What `npm run bench` was asked to do. */
export interface BenchOptions {
  /** Messages per variant. @default 300 (20 with `--smoke`) */
  messages: number;
  /** Messages per SQS receive / handler invocation (SQS allows at most 10). @default 10 */
  batch: number;
  /**
   * Network latencies in front of the Office 365 emulator, one set of runs each: every byte it
   * sends (greeting, every reply, the TLS handshake's server flights) reaches the client this much
   * later, without holding the server back, so each SMTP round trip costs this once and a pipelined
   * group of commands once in all. The token endpoint gets none. @default [20, 60] ([2] with `--smoke`)
   */
  delaysMs: number[];
  /**
   * Concurrent invocations of (a) and pooled connections of (c): the same number of SMTP sessions
   * at once, so they compete for the mailbox on equal terms. (b) is sequential, as written.
   * @default undefined: the stack's `maxConcurrency` default (infra/mail-sender-props.ts)
   */
  concurrency: number | undefined;
  /** Runs of every variant, interleaved; the report keeps each variant's median-throughput run. @default 1 */
  rounds: number;
  /** Fresh `node` processes per bundle for the cold-start median. @default 7 (1 with `--smoke`) */
  coldStartSamples: number;
  /** Cold-start measurements in a row (the target must hold on each). @default 3 (1 with `--smoke`) */
  coldStartRuns: number;
  /**
   * Which variants to run. @default all; the naive consumer only at the first latency (it needs
   * about ten round trips per message, and its target is set there)
   */
  variants: VariantName[];
  /** Skip the cold-start part. @default false */
  skipColdStart: boolean;
  /** Print JSON instead of the table. @default false */
  json: boolean;
  /** CI mode: small and quick; proves the bench still works, says nothing about speed. @default false */
  smoke: boolean;
  /** Write a V8 CPU profile of every variant process's timed window into this directory. */
  cpuProfileDir: string | undefined;
}

export const VARIANT_NAMES = ['handler', 'handler-pipelining', 'naive', 'sqs-consumer'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** Variants run at every latency; the others only at the first. */
export const EVERY_LATENCY: readonly VariantName[] = [
  'handler',
  'handler-pipelining',
  'sqs-consumer',
];

const USAGE = `usage: npm run bench -- [--messages N] [--batch 10] [--delay-ms 20,60] [--samples 7] [--cold-start-runs 3]
                          [--concurrency 2] [--rounds 1] [--variants handler,handler-pipelining,naive,sqs-consumer]
                          [--no-cold-start] [--smoke] [--json]
  --messages N      messages per variant (default 300; 20 with --smoke)
  --batch N         messages per SQS receive / handler invocation, 1 to 10 (default 10)
  --delay-ms LIST   network latencies, one set of runs each: everything the SMTP emulator sends
                    (greeting, each reply, the TLS handshake) reaches the client N ms later, so each
                    round trip costs N ms and a pipelined group of commands N ms in all; none on the
                    token endpoint (default 20,60; 2 with --smoke)
  --concurrency N   SMTP sessions at once for (a) and (c) (default: the stack's maxConcurrency)
  --rounds N        runs of every variant, interleaved; the median-throughput run is reported (default 1)
  --samples N       fresh node processes per bundle for the cold-start median (default 7; 1 with --smoke)
  --cold-start-runs N  cold-start measurements in a row, the target must hold on each (default 3; 1 with --smoke)
  --variants LIST   which variants to run (default all; naive only at the first latency)
  --no-cold-start   skip the cold-start part
  --smoke           CI mode: small and quick, proves the bench runs; timings mean nothing
  --cpu-prof DIR    write a CPU profile of each variant process's timed window into DIR
  --json            print JSON instead of the table`;

/** Parses argv; throws with the usage text on anything it does not understand. */
export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      messages: { type: 'string' },
      batch: { type: 'string' },
      'delay-ms': { type: 'string' },
      samples: { type: 'string' },
      'cold-start-runs': { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      variants: { type: 'string' },
      'no-cold-start': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new Error(USAGE);
  const smoke = values.smoke;
  const options: BenchOptions = {
    messages: toInt('messages', values.messages, smoke ? 20 : 300, 1, 100_000),
    batch: toInt('batch', values.batch, 10, 1, 10),
    delaysMs: toDelays(values['delay-ms'], smoke ? [2] : [20, 60]),
    concurrency:
      values.concurrency === undefined
        ? undefined
        : toInt('concurrency', values.concurrency, 2, 1, 10),
    rounds: toInt('rounds', values.rounds, 1, 1, 9),
    coldStartSamples: toInt('samples', values.samples, smoke ? 1 : 7, 1, 101),
    coldStartRuns: toInt('cold-start-runs', values['cold-start-runs'], smoke ? 1 : 3, 1, 9),
    variants: toVariants(values.variants),
    skipColdStart: values['no-cold-start'],
    json: values.json,
    smoke,
    cpuProfileDir: values['cpu-prof'],
  };
  return options;
}

function toInt(name: string, raw: string | undefined, fallback: number, min: number, max: number) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"\n${USAGE}`);
  }
  return value;
}

function toDelays(raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  return raw.split(',').map((part) => toInt('delay-ms', part.trim(), 0, 0, 5_000));
}

function toVariants(raw: string | undefined): VariantName[] {
  if (raw === undefined) return [...VARIANT_NAMES];
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(VARIANT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown variant "${name}" (known: ${VARIANT_NAMES.join(', ')})\n${USAGE}`);
    }
  }
  return names as VariantName[];
}
