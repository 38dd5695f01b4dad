import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../scripts/bench/options.ts';
import { formatReport, formatTable } from '../../scripts/bench/report.ts';
import type { BenchResult, ColdStartResult, VariantResult } from '../../scripts/bench/results.ts';
import { judgeTargets, type TargetVerdict } from '../../scripts/bench/targets.ts';

function variant(
  overrides: Partial<VariantResult> & Pick<VariantResult, 'variant'>,
): VariantResult {
  return {
    label: `(${overrides.variant}) test`,
    delayMs: 20,
    parallel: 1,
    instances: 1,
    sent: 100,
    batches: 10,
    elapsedMs: 1000,
    cpuMs: 100,
    maxRssKb: 100 * 1024,
    connections: 10,
    tlsHandshakes: 10,
    authAttempts: 10,
    tokenRequests: 1,
    serverFlights: 100,
    billedMs: 900,
    smtpCommands: {},
    tokenLifetimeSeconds: 3599,
    ...overrides,
  };
}

function bundle(bytes: number, initMedianMs: number) {
  return {
    name: 'b',
    description: 'd',
    bytes,
    initSamplesMs: [initMedianMs],
    initMedianMs,
    initCpuMedianMs: initMedianMs,
    topContributors: [],
  };
}

const cold = (senderMs: number, bytes = 400 * 1024): ColdStartResult => ({
  sender: bundle(bytes, senderMs),
  plain: bundle(5000 * 1024, 100),
});

function result(
  variants: VariantResult[],
  coldStarts: ColdStartResult[] = [cold(40), cold(40), cold(40)],
  delaysMs = [20, 60],
): BenchResult {
  return {
    settings: {
      messages: 100,
      batch: 10,
      delaysMs,
      concurrency: 2,
      rounds: 1,
      coldStartSamples: 1,
      smoke: false,
    },
    machine: {
      date: '2026-11-22',
      node: '22.23.3',
      cpus: 2,
      cpuModel: 'test',
      platform: 'linux/x64',
    },
    variants,
    coldStarts,
  };
}

/** Each verdict by its target text, so a test names the one it means. */
const byTarget = (verdicts: TargetVerdict[]) =>
  Object.fromEntries(verdicts.map((v) => [v.target, v.met]));

/** What a good run looks like at both latencies. */
function goodRun(): VariantResult[] {
  return [20, 60].flatMap((delayMs) => [
    variant({ variant: 'handler', delayMs, elapsedMs: 400, serverFlights: 110 }),
    variant({ variant: 'handler-pipelining', delayMs, elapsedMs: 500, serverFlights: 125 }),
    variant({ variant: 'sqs-consumer', delayMs, elapsedMs: 1000, serverFlights: 220 }),
    ...(delayMs === 20 ? [variant({ variant: 'naive', delayMs, elapsedMs: 6000 })] : []),
  ]);
}

describe('bench targets', () => {
  it('marks every target met when the handler beats the peers within budget', () => {
    const verdicts = judgeTargets(result(goodRun()));
    expect(verdicts.filter((v) => v.met !== true)).toEqual([]);
    expect(verdicts.map((v) => v.target)).toEqual([
      'one TLS+AUTH handshake per batch (20 ms)',
      'at most one token request per token lifetime per warm instance (20 ms)',
      'one TLS+AUTH handshake per batch (60 ms)',
      'at most one token request per token lifetime per warm instance (60 ms)',
      "throughput ≥ 5× the naive consumer's",
      "throughput ≥ 1.6× the pooled sqs-consumer peer at 20 ms's",
      "throughput ≥ 2× the pooled sqs-consumer peer at 60 ms's",
      '≤ 1.2 round trips per message, server with CHUNKING (20 ms)',
      '≤ 1.3 round trips per message, server with PIPELINING only (20 ms)',
      '≤ 1.2 round trips per message, server with CHUNKING (60 ms)',
      '≤ 1.3 round trips per message, server with PIPELINING only (60 ms)',
      'sender bundle ≤ 500 KB',
      'sender initialisation ≤ 45.0 % of the plain bundle’s, on each of 3 runs in a row',
    ]);
  });

  it('marks each target not met on its own breach', () => {
    const run = goodRun().map((v) => {
      if (v.variant === 'handler' && v.delayMs === 60) {
        // Slower than 2× the peer at 60 ms, 1.3 round trips per message.
        return { ...v, elapsedMs: 600, serverFlights: 130 };
      }
      if (v.variant === 'handler-pipelining' && v.delayMs === 20)
        return { ...v, serverFlights: 140 };
      return v;
    });
    // The second of three cold starts misses.
    const met = byTarget(judgeTargets(result(run, [cold(40), cold(46), cold(40, 501 * 1024)])));
    expect(met).toMatchObject({
      "throughput ≥ 1.6× the pooled sqs-consumer peer at 20 ms's": true,
      "throughput ≥ 2× the pooled sqs-consumer peer at 60 ms's": false,
      '≤ 1.2 round trips per message, server with CHUNKING (20 ms)': true,
      '≤ 1.2 round trips per message, server with CHUNKING (60 ms)': false,
      '≤ 1.3 round trips per message, server with PIPELINING only (20 ms)': false,
      'sender bundle ≤ 500 KB': false,
      'sender initialisation ≤ 45.0 % of the plain bundle’s, on each of 3 runs in a row': false,
    });
  });

  it('counts a handshake and a token target breach', () => {
    const run = goodRun().map((v) =>
      v.variant === 'handler' && v.delayMs === 20
        ? { ...v, tlsHandshakes: 20, authAttempts: 20, tokenRequests: 2 }
        : v,
    );
    const met = byTarget(judgeTargets(result(run)));
    expect(met['one TLS+AUTH handshake per batch (20 ms)']).toBe(false);
    expect(met['at most one token request per token lifetime per warm instance (20 ms)']).toBe(
      false,
    );
    expect(met['one TLS+AUTH handshake per batch (60 ms)']).toBe(true);
  });

  it('says n/a rather than guessing when a variant, a latency or the cold starts did not run', () => {
    const only = result([variant({ variant: 'handler', delayMs: 2 })], [cold(40)], [2]);
    const met = byTarget(judgeTargets(only));
    expect(met).toMatchObject({
      "throughput ≥ 5× the naive consumer's": undefined,
      'throughput against the pooled sqs-consumer peer at 2 ms': undefined,
      '≤ 1.2 round trips per message, server with CHUNKING (2 ms)': true,
      '≤ 1.3 round trips per message, server with PIPELINING only (2 ms)': undefined,
      // One run under the limit is not yet three in a row.
      'sender initialisation ≤ 45.0 % of the plain bundle’s, on each of 3 runs in a row': undefined,
    });
    expect(byTarget(judgeTargets(result([], [])))['sender bundle ≤ 500 KB']).toBeUndefined();
  });
});

describe('bench report', () => {
  it('aligns the table columns, one table per latency, and prints the verdicts', () => {
    expect(
      formatTable(
        ['name', 'n'],
        [
          ['a', '1'],
          ['long name', '10'],
        ],
      ),
    ).toBe(['name        n', '---------  --', 'a           1', 'long name  10'].join('\n'));
    const text = formatReport(result(goodRun()));
    // Each latency says what it is: the network's, on every SMTP byte, not on the tokens.
    for (const ms of [20, 60]) {
      expect(text).toContain(
        `${ms} ms network latency on every byte the SMTP emulator sends (once per round trip, TLS handshake included; none on the token endpoint)`,
      );
    }
    expect(text).toMatch(/variant .* msg\/s {2}round trips\/msg {2}billed ms\/msg {2}CPU ms\/msg/);
    expect(text).toContain(
      '(handler) vs (sqs-consumer): throughput 2.50×, round trips per message 0.50×, billed time per message 1.00×',
    );
    expect(text).toContain('[met]     throughput ≥ 5× the naive consumer');
    expect(text).toContain(
      'Cold start (module initialisation, fresh node process per sample) — run 3 of 3',
    );
  });
});

describe('bench options', () => {
  it('defaults to a small quick run in smoke mode and rejects nonsense', () => {
    expect(parseBenchOptions(['--smoke'])).toMatchObject({
      messages: 20,
      batch: 10,
      delaysMs: [2],
      coldStartSamples: 1,
      coldStartRuns: 1,
    });
    expect(parseBenchOptions([])).toMatchObject({
      messages: 300,
      delaysMs: [20, 60],
      coldStartSamples: 7,
      coldStartRuns: 3,
    });
    expect(parseBenchOptions(['--delay-ms', '40'])).toMatchObject({ delaysMs: [40] });
    expect(() => parseBenchOptions(['--batch', '11'])).toThrow(
      /--batch must be an integer from 1 to 10/,
    );
    expect(() => parseBenchOptions(['--delay-ms', '20,fast'])).toThrow(/--delay-ms must be/);
    expect(() => parseBenchOptions(['--variants', 'fast'])).toThrow(/unknown variant "fast"/);
  });

  it('--help explains that --delay-ms is network latency on the SMTP side only', () => {
    expect(() => parseBenchOptions(['--help'])).toThrow(
      /--delay-ms LIST {3}network latencies[\s\S]*none on the\s+token endpoint/,
    );
  });
});
