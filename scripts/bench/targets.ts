import { type BenchResult, handshakes, perMessage, type VariantResult } from './results.ts';

/** A target judged from a run. `met: undefined` = not measured in this run. */
export interface TargetVerdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** The targets, as numbers, so the docs and the script cannot drift apart. */
export const TARGETS = {
  /** At least this many times the naive consumer's messages per second (at the first latency). */
  naiveThroughputFactor: 5,
  /**
   * At least this many times the pooled peer's messages per second, by network latency (ms): the
   * farther the server, the more round trips per message cost; at 20 ms CPU per message counts too.
   */
  peerThroughputFactor: { 20: 1.6, 60: 2 } as Readonly<Record<number, number>>,
  /** Round trips per message (server flights on the wire), against a server offering CHUNKING. */
  maxRoundTripsChunking: 1.2,
  /** The same against a server offering PIPELINING but not CHUNKING. */
  maxRoundTripsPipelining: 1.3,
  /** Sender bundle size ceiling, in KB (1 KB = 1024 bytes). */
  maxBundleKb: 500,
  /** Sender initialisation at most this fraction of the plain bundle's ... */
  maxInitFraction: 0.45,
  /** ... on each of this many cold-start runs in a row. */
  coldStartRuns: 3,
} as const;

/** Judges every target the run has the figures for. */
export function judgeTargets(result: BenchResult): TargetVerdict[] {
  const delays = result.settings.delaysMs;
  const at = (variant: VariantResult['variant'], delayMs: number) =>
    result.variants.find((v) => v.variant === variant && v.delayMs === delayMs);
  const verdicts: TargetVerdict[] = [];
  for (const delayMs of delays) {
    const ours = at('handler', delayMs);
    if (!ours) continue;
    verdicts.push(handshakeTarget(ours), tokenTarget(ours));
  }
  const first = delays[0] ?? 0;
  verdicts.push(
    throughputTarget(
      at('handler', first),
      at('naive', first),
      TARGETS.naiveThroughputFactor,
      'the naive consumer',
    ),
  );
  for (const delayMs of delays) {
    const factor = TARGETS.peerThroughputFactor[delayMs];
    const name = `the pooled sqs-consumer peer at ${delayMs} ms`;
    verdicts.push(
      factor === undefined
        ? {
            target: `throughput against ${name}`,
            met: undefined,
            detail: 'targets are set at 20 and 60 ms',
          }
        : throughputTarget(at('handler', delayMs), at('sqs-consumer', delayMs), factor, name),
    );
  }
  for (const delayMs of delays) {
    verdicts.push(
      roundTripTarget(at('handler', delayMs), TARGETS.maxRoundTripsChunking, 'CHUNKING', delayMs),
      roundTripTarget(
        at('handler-pipelining', delayMs),
        TARGETS.maxRoundTripsPipelining,
        'PIPELINING only',
        delayMs,
      ),
    );
  }
  verdicts.push(bundleSizeTarget(result), initTarget(result));
  return verdicts;
}

function handshakeTarget(ours: VariantResult): TargetVerdict {
  const target = `one TLS+AUTH handshake per batch (${ours.delayMs} ms)`;
  const count = handshakes(ours);
  return {
    target,
    met: count <= ours.batches,
    detail: `${count} handshakes for ${ours.batches} batches (${fmt(count / ours.batches)} per batch)`,
  };
}

function tokenTarget(ours: VariantResult): TargetVerdict {
  const target = `at most one token request per token lifetime per warm instance (${ours.delayMs} ms)`;
  // Every instance ran the whole time; every started token lifetime allows each one request.
  const lifetimes = Math.max(1, Math.ceil(ours.elapsedMs / 1000 / ours.tokenLifetimeSeconds));
  const allowed = lifetimes * ours.instances;
  return {
    target,
    met: ours.tokenRequests <= allowed,
    detail: `${ours.tokenRequests} token requests in ${fmt(ours.elapsedMs / 1000)} s (lifetime ${ours.tokenLifetimeSeconds} s, ${ours.instances} instance${ours.instances === 1 ? '' : 's'})`,
  };
}

function throughputTarget(
  ours: VariantResult | undefined,
  other: VariantResult | undefined,
  factor: number,
  otherName: string,
): TargetVerdict {
  const target = `throughput ≥ ${factor}× ${otherName}'s`;
  if (!ours || !other) return { target, met: undefined, detail: 'variant not run' };
  const ratio = perMessage(ours).messagesPerSecond / perMessage(other).messagesPerSecond;
  return {
    target,
    met: ratio >= factor,
    detail: `${fmt(ratio)}× (${fmt(perMessage(ours).messagesPerSecond)} vs ${fmt(perMessage(other).messagesPerSecond)} msg/s)`,
  };
}

function roundTripTarget(
  run: VariantResult | undefined,
  max: number,
  server: string,
  delayMs: number,
): TargetVerdict {
  const target = `≤ ${max} round trips per message, server with ${server} (${delayMs} ms)`;
  if (!run) return { target, met: undefined, detail: 'variant not run' };
  const perMsg = perMessage(run).roundTripsPerMessage;
  return {
    target,
    met: perMsg <= max,
    detail: `${fmt(perMsg)} (${run.serverFlights} server flights for ${run.sent} messages, handshakes included)`,
  };
}

function bundleSizeTarget(result: BenchResult): TargetVerdict {
  const target = `sender bundle ≤ ${TARGETS.maxBundleKb} KB`;
  const sender = result.coldStarts.at(-1)?.sender;
  if (!sender) return { target, met: undefined, detail: 'cold start not measured' };
  const kb = sender.bytes / 1024;
  return { target, met: kb <= TARGETS.maxBundleKb, detail: `${fmt(kb)} KB` };
}

function initTarget(result: BenchResult): TargetVerdict {
  const { maxInitFraction, coldStartRuns } = TARGETS;
  const target = `sender initialisation ≤ ${fmt(maxInitFraction * 100)} % of the plain bundle’s, on each of ${coldStartRuns} runs in a row`;
  const runs = result.coldStarts;
  if (runs.length === 0) return { target, met: undefined, detail: 'cold start not measured' };
  const fractions = runs.map((run) => run.sender.initMedianMs / run.plain.initMedianMs);
  const each = runs.map(
    (run, i) =>
      `${fmt(run.sender.initMedianMs)} vs ${fmt(run.plain.initMedianMs)} ms (${fmt(fractions[i]! * 100)} %)`,
  );
  const allUnder = fractions.every((f) => f <= maxInitFraction);
  return {
    target,
    met: runs.length < coldStartRuns ? (allUnder ? undefined : false) : allUnder,
    detail:
      each.join('; ') +
      (runs.length < coldStartRuns ? ` — ${runs.length} of ${coldStartRuns} runs made` : ''),
  };
}

/** Two significant decimals below 10, one below 100, none above: enough for a bench table. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
