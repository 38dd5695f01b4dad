import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from '../../scripts/bench/options.ts';
import { formatReport, formatTable } from '../../scripts/bench/report.ts';
import type { BenchResult, VariantResult } from '../../scripts/bench/results.ts';
import { judgeTargets } from '../../scripts/bench/targets.ts';

function variant(
  overrides: Partial<VariantResult> & Pick<VariantResult, 'variant'>,
): VariantResult {
  return {
    label: `(${overrides.variant}) test`,
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

function result(variants: VariantResult[], sender = bundle(400 * 1024, 40)): BenchResult {
  return {
    settings: {
      messages: 100,
      batch: 10,
      delayMs: 20,
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
    coldStart: { sender, plain: bundle(5000 * 1024, 100) },
  };
}

describe('bench targets', () => {
  it('marks every target met when the handler beats both peers within budget', () => {
    const verdicts = judgeTargets(
      result([
        variant({ variant: 'handler', elapsedMs: 1000 }),
        variant({ variant: 'naive', elapsedMs: 6000, tokenRequests: 100, connections: 100 }),
        variant({ variant: 'sqs-consumer', elapsedMs: 1000 }),
      ]),
    );
    expect(verdicts.map((v) => v.met)).toEqual([true, true, true, true, true, true]);
  });

  it('marks each target not met on its own breach', () => {
    const verdicts = judgeTargets(
      result(
        [
          // Two handshakes per batch, two tokens within one lifetime, slower than both peers.
          variant({
            variant: 'handler',
            elapsedMs: 2000,
            tlsHandshakes: 20,
            authAttempts: 20,
            tokenRequests: 2,
          }),
          variant({ variant: 'naive', elapsedMs: 6000 }),
          variant({ variant: 'sqs-consumer', elapsedMs: 1000 }),
        ],
        bundle(501 * 1024, 51),
      ),
    );
    expect(verdicts.map((v) => v.met)).toEqual([false, false, false, false, false, false]);
    expect(verdicts[2]?.detail).toBe('3.00×');
  });

  it('says n/a rather than guessing when a variant or the cold start did not run', () => {
    const partial = { ...result([variant({ variant: 'handler' })]), coldStart: undefined };
    expect(judgeTargets(partial).map((v) => v.met)).toEqual([
      true,
      true,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('bench report', () => {
  it('aligns the table columns and prints the verdicts', () => {
    expect(
      formatTable(
        ['name', 'n'],
        [
          ['a', '1'],
          ['long name', '10'],
        ],
      ),
    ).toBe(['name        n', '---------  --', 'a           1', 'long name  10'].join('\n'));
    const text = formatReport(
      result([variant({ variant: 'handler' }), variant({ variant: 'naive', elapsedMs: 10_000 })]),
    );
    // The header says what the delay is: the network's, on every SMTP byte, not on the tokens.
    expect(text).toContain(
      '100 messages per variant, batches of 10, 20 ms network latency on every byte the SMTP emulator sends (once per round trip, TLS handshake included; none on the token endpoint), 2 SMTP sessions at once',
    );
    expect(text).toContain('(handler) vs (naive): throughput 10.0×, CPU per message 1.00×');
    expect(text).toContain('[met]     throughput ≥ 5× the naive consumer');
    expect(text).toContain('[n/a]     throughput ≥ the pooled sqs-consumer peer');
  });
});

describe('bench options', () => {
  it('defaults to a small quick run in smoke mode and rejects nonsense', () => {
    expect(parseBenchOptions(['--smoke'])).toMatchObject({
      messages: 20,
      batch: 10,
      delayMs: 2,
      coldStartSamples: 1,
    });
    expect(parseBenchOptions([])).toMatchObject({
      messages: 300,
      delayMs: 20,
      coldStartSamples: 7,
    });
    expect(() => parseBenchOptions(['--batch', '11'])).toThrow(
      /--batch must be an integer from 1 to 10/,
    );
    expect(() => parseBenchOptions(['--variants', 'fast'])).toThrow(/unknown variant "fast"/);
  });

  it('--help explains that --delay-ms is network latency on the SMTP side only', () => {
    expect(() => parseBenchOptions(['--help'])).toThrow(
      /--delay-ms N {6}network latency: everything the SMTP emulator sends[\s\S]*none on the token endpoint/,
    );
  });
});
