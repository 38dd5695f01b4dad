/**
 * The bench proper; `scripts/bench.ts` starts it with the test CA trusted (NODE_EXTRA_CA_CERTS is
 * read only when Node starts). Exit codes: 0 = ran (whatever the timings and targets), 1 = broken.
 */
import { cpus } from 'node:os';
import { startSqsEmulator } from '../../test/emulators/sqs-emulator.ts';
import { measureColdStart } from './cold-start.ts';
import { BenchBreakage, measureVariant } from './measure.ts';
import {
  type BenchOptions,
  EVERY_LATENCY,
  parseBenchOptions,
  type VariantName,
} from './options.ts';
import { formatReport } from './report.ts';
import type { BenchResult, MachineInfo, VariantResult } from './results.ts';
import { judgeTargets } from './targets.ts';
import { coldStartEnv } from './variant-handler-env.ts';

function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    node: process.versions.node,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown CPU',
    platform: `${process.platform}/${process.arch}`,
  };
}

/** The round with the median throughput, whole: its figures stay consistent with each other. */
function medianRun(results: VariantResult[]): VariantResult {
  const sorted = [...results].sort((a, b) => a.sent / a.elapsedMs - b.sent / b.elapsedMs);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no run to report');
  return middle;
}

async function runBench(options: BenchOptions): Promise<BenchResult> {
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const { MAIL_SENDER_DEFAULTS } = await import('../../infra/mail-sender-props.ts');
  const concurrency = options.concurrency ?? MAIL_SENDER_DEFAULTS.maxConcurrency;
  const sqs = await startSqsEmulator();
  const variants: VariantResult[] = [];
  try {
    for (const [index, delayMs] of options.delaysMs.entries()) {
      const here = options.variants.filter((v) => index === 0 || EVERY_LATENCY.includes(v));
      variants.push(...(await runLatency(options, here, delayMs, concurrency, sqs, progress)));
    }
  } finally {
    await sqs.stop();
  }
  const coldStarts: BenchResult['coldStarts'] = [];
  if (!options.skipColdStart) {
    for (let run = 1; run <= options.coldStartRuns; run += 1) {
      const of = options.coldStartRuns > 1 ? ` (run ${run} of ${options.coldStartRuns})` : '';
      progress(`cold start: ${options.coldStartSamples} fresh processes per bundle${of} ...`);
      coldStarts.push(await measureColdStart(options.coldStartSamples, coldStartEnv()));
    }
  }
  return {
    settings: {
      messages: options.messages,
      batch: options.batch,
      delaysMs: options.delaysMs,
      concurrency,
      rounds: options.rounds,
      coldStartSamples: options.coldStartSamples,
      smoke: options.smoke,
    },
    machine: machineInfo(),
    variants,
    coldStarts,
  };
}

/** Every variant at one latency, in interleaved rounds; each variant's median-throughput round. */
async function runLatency(
  options: BenchOptions,
  names: VariantName[],
  delayMs: number,
  concurrency: number,
  sqs: Awaited<ReturnType<typeof startSqsEmulator>>,
  progress: (line: string) => void,
): Promise<VariantResult[]> {
  const runs = new Map<VariantName, VariantResult[]>();
  // Rounds interleave the variants, so a burst of load on a shared machine hits all of them.
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const variant of names) {
      const of = options.rounds > 1 ? ` (round ${round} of ${options.rounds})` : '';
      progress(`${variant} at ${delayMs} ms: ${options.messages} messages${of} ...`);
      const result = await measureVariant(
        variant,
        {
          messages: options.messages,
          batch: options.batch,
          delayMs,
          concurrency,
          // Generous: the naive variant needs about ten round trips per message (a new connection,
          // TLS and token each time), so at 20 ms it still does several messages a second.
          timeoutMs: 60_000 + options.messages * (delayMs * 20 + 200),
          cpuProfileDir: options.cpuProfileDir,
        },
        sqs,
      );
      runs.set(variant, [...(runs.get(variant) ?? []), result]);
      // Every round's throughput, so the spread behind the reported median can be seen.
      progress(
        `${variant} at ${delayMs} ms: ${((result.sent * 1000) / result.elapsedMs).toFixed(1)} msg/s${of}`,
      );
    }
  }
  return names.map((variant) => medianRun(runs.get(variant) ?? []));
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    const result = await runBench(options);
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ ...result, targets: judgeTargets(result) }, null, 2)}\n`
        : `${formatReport(result)}\n`,
    );
  } catch (error) {
    const kind = error instanceof BenchBreakage ? 'broken' : 'crashed';
    process.stderr.write(`bench ${kind}: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  }
}

await main();
