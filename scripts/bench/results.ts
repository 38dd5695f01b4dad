import type { VariantName } from './options.ts';

/** One variant's figures, from its child (time, CPU, memory) and the emulators (counters). */
export interface VariantResult {
  variant: VariantName;
  label: string;
  /** The network latency this run had (ms per round trip). */
  delayMs: number;
  /** SMTP sessions the variant runs at once. */
  parallel: number;
  /** Processes (warm instances) it ran in; CPU is their sum, peak memory the largest one's. */
  instances: number;
  sent: number;
  batches: number;
  elapsedMs: number;
  cpuMs: number;
  maxRssKb: number;
  /** TCP connections the SMTP emulator accepted. */
  connections: number;
  /** STARTTLS handshakes completed. */
  tlsHandshakes: number;
  /** AUTH commands (XOAUTH2 or LOGIN). */
  authAttempts: number;
  /** POSTs to the token endpoint's `/oauth2/v2.0/token`. */
  tokenRequests: number;
  /**
   * Server flights the latency relay saw (what the server sent between two client sends): each is
   * a round trip the client waited out, or could have. Handshakes included.
   */
  serverFlights: number;
  /**
   * What a Lambda would bill: the sum of every invocation's duration, each rounded up to the ms
   * (for (c), its batch handler's; undefined for (b), which is no batch consumer).
   */
  billedMs: number | undefined;
  /** SMTP command lines by verb (EHLO, STARTTLS, AUTH, MAIL, RSET, ...), for `--json` readers. */
  smtpCommands: Record<string, number>;
  /** The token lifetime the endpoint issued, for the "one per lifetime" target. */
  tokenLifetimeSeconds: number;
}

/** A bundle built and imported in fresh processes. */
export interface BundleResult {
  name: string;
  description: string;
  bytes: number;
  /** Module initialisation, each sample from its own fresh `node` process, in ms. */
  initSamplesMs: number[];
  initMedianMs: number;
  /** Median CPU time of the same imports (steadier than wall time on a busy machine). */
  initCpuMedianMs: number;
  /** Biggest inputs in the output, by package (esbuild metafile). */
  topContributors: { name: string; bytes: number }[];
}

export interface ColdStartResult {
  /** As the stack builds it (infra/sender-bundling.ts). */
  sender: BundleResult;
  /** The same sender with the other choice for `@aws-sdk/*` (bundled vs. from the runtime). */
  senderAlternative?: BundleResult;
  /** The same dependencies, imported whole, bundled by plain esbuild. */
  plain: BundleResult;
  /** What the sender loads on first use instead of at initialisation (the DynamoDB client). */
  firstUse?: BundleResult;
}

export interface MachineInfo {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  platform: string;
}

export interface BenchResult {
  settings: {
    messages: number;
    batch: number;
    /** Network latencies on everything the SMTP emulator sends, in ms (none on the token endpoint). */
    delaysMs: number[];
    /** SMTP sessions at once for (a) and (c). */
    concurrency: number;
    /** Runs per variant; each variant's median-throughput run is reported. */
    rounds: number;
    coldStartSamples: number;
    smoke: boolean;
  };
  machine: MachineInfo;
  /** Every variant at every latency it ran at (the median-throughput round of each). */
  variants: VariantResult[];
  /** The cold-start measurements, in the order they ran (empty with `--no-cold-start`). */
  coldStarts: ColdStartResult[];
}

/** Derived per-message figures; `undefined` when nothing was sent. */
export function perMessage(result: VariantResult) {
  const n = result.sent || Number.NaN;
  return {
    messagesPerSecond: result.sent / (result.elapsedMs / 1000),
    connectionsPerMessage: result.connections / n,
    handshakesPerMessage: handshakes(result) / n,
    cpuMsPerMessage: result.cpuMs / n,
    peakMemoryMb: result.maxRssKb / 1024,
    roundTripsPerMessage: result.serverFlights / n,
    billedMsPerMessage: result.billedMs === undefined ? Number.NaN : result.billedMs / n,
  };
}

/** A TLS+AUTH handshake: STARTTLS then AUTH on one connection; counted by whichever ran more often. */
export function handshakes(result: VariantResult): number {
  return Math.max(result.tlsHandshakes, result.authAttempts);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
