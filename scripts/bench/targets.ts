import { type BenchResult, handshakes, perMessage, type VariantResult } from './results.ts';

/** One of issue 7's targets, judged from a run. `met: undefined` = not measured in this run. */
export interface TargetVerdict {
  target: string;
  met: boolean | undefined;
  detail: string;
}

/** The targets, as numbers, so the README and the script cannot drift apart. */
export const TARGETS = {
  /** At least this many times the naive consumer's messages per second. */
  naiveThroughputFactor: 5,
  /** At least this many times the pooled peer's messages per second. */
  peerThroughputFactor: 1,
  /** Sender bundle size ceiling, in KB (1 KB = 1024 bytes). */
  maxBundleKb: 500,
  /** Sender initialisation at most this fraction of the plain bundle's. */
  maxInitFraction: 0.5,
} as const;

/** Judges every target the run has the figures for. */
export function judgeTargets(result: BenchResult): TargetVerdict[] {
  const byName = new Map(result.variants.map((v) => [v.variant, v]));
  const ours = byName.get('handler');
  const naive = byName.get('naive');
  const peer = byName.get('sqs-consumer');
  return [
    handshakeTarget(ours),
    tokenTarget(ours),
    throughputTarget(ours, naive, TARGETS.naiveThroughputFactor, 'the naive consumer'),
    throughputTarget(ours, peer, TARGETS.peerThroughputFactor, 'the pooled sqs-consumer peer'),
    bundleSizeTarget(result),
    initTarget(result),
  ];
}

function handshakeTarget(ours: VariantResult | undefined): TargetVerdict {
  const target = 'one TLS+AUTH handshake per batch';
  if (!ours) return { target, met: undefined, detail: 'handler not run' };
  const count = handshakes(ours);
  return {
    target,
    met: count <= ours.batches,
    detail: `${count} handshakes for ${ours.batches} batches (${fmt(count / ours.batches)} per batch)`,
  };
}

function tokenTarget(ours: VariantResult | undefined): TargetVerdict {
  const target = 'at most one token request per token lifetime per warm instance';
  if (!ours) return { target, met: undefined, detail: 'handler not run' };
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
  const target =
    factor === 1 ? `throughput ≥ ${otherName}'s` : `throughput ≥ ${factor}× ${otherName}'s`;
  if (!ours || !other) return { target, met: undefined, detail: 'variant not run' };
  const ratio = perMessage(ours).messagesPerSecond / perMessage(other).messagesPerSecond;
  return { target, met: ratio >= factor, detail: `${fmt(ratio)}×` };
}

function bundleSizeTarget(result: BenchResult): TargetVerdict {
  const target = `sender bundle ≤ ${TARGETS.maxBundleKb} KB`;
  const sender = result.coldStart?.sender;
  if (!sender) return { target, met: undefined, detail: 'cold start not measured' };
  const kb = sender.bytes / 1024;
  return { target, met: kb <= TARGETS.maxBundleKb, detail: `${fmt(kb)} KB` };
}

function initTarget(result: BenchResult): TargetVerdict {
  const target = 'sender initialisation ≤ half of the plain bundle’s';
  const cold = result.coldStart;
  if (!cold) return { target, met: undefined, detail: 'cold start not measured' };
  const fraction = cold.sender.initMedianMs / cold.plain.initMedianMs;
  return {
    target,
    met: fraction <= TARGETS.maxInitFraction,
    detail:
      `${fmt(cold.sender.initMedianMs)} ms vs ${fmt(cold.plain.initMedianMs)} ms (${fmt(fraction * 100)} %); ` +
      `CPU ${fmt(cold.sender.initCpuMedianMs)} vs ${fmt(cold.plain.initCpuMedianMs)} ms`,
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
