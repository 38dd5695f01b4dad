import { type BenchResult, type BundleResult, perMessage, type VariantResult } from './results.ts';
import { fmt, judgeTargets, type TargetVerdict } from './targets.ts';

/** Right-aligns numbers, left-aligns the first column; plain text for docs/performance.md. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function formatVariants(variants: VariantResult[]): string {
  const header = [
    'variant',
    'processes',
    'sessions',
    'msg/s',
    'round trips/msg',
    'billed ms/msg',
    'CPU ms/msg',
    'conn/msg',
    'TLS+AUTH/msg',
    'token req',
    'peak MB/process',
    'batches',
  ];
  const rows = variants.map((result) => {
    const per = perMessage(result);
    return [
      result.label,
      String(result.instances),
      String(result.parallel),
      fmt(per.messagesPerSecond),
      fmt(per.roundTripsPerMessage),
      fmt(per.billedMsPerMessage),
      fmt(per.cpuMsPerMessage),
      fmt(per.connectionsPerMessage),
      fmt(per.handshakesPerMessage),
      String(result.tokenRequests),
      fmt(per.peakMemoryMb),
      String(result.batches),
    ];
  });
  return formatTable(header, rows);
}

/** "(a) vs (b)" lines: (a)'s figure divided by the other's (throughput: higher is better; the rest: lower). */
export function formatRatios(variants: VariantResult[]): string[] {
  const ours = variants.find((v) => v.variant === 'handler');
  if (!ours) return [];
  const a = perMessage(ours);
  return variants
    .filter((other) => other !== ours && other.variant !== 'handler-pipelining')
    .map((other) => {
      const o = perMessage(other);
      const billed = Number.isFinite(a.billedMsPerMessage / o.billedMsPerMessage)
        ? `billed time per message ${fmt(a.billedMsPerMessage / o.billedMsPerMessage)}×, `
        : '';
      return (
        `${shortLabel(ours)} vs ${shortLabel(other)}: throughput ${fmt(a.messagesPerSecond / o.messagesPerSecond)}×, ` +
        `round trips per message ${fmt(a.roundTripsPerMessage / o.roundTripsPerMessage)}×, ${billed}` +
        `CPU per message ${fmt(a.cpuMsPerMessage / o.cpuMsPerMessage)}×, ` +
        `token requests ${ours.tokenRequests} vs ${other.tokenRequests}`
      );
    });
}

function shortLabel(result: VariantResult): string {
  return result.label.split(' ')[0] ?? result.variant;
}

export function formatBundles(bundles: BundleResult[]): string {
  const header = ['bundle', 'bytes', 'KB', 'init median ms', 'init CPU ms', 'samples'];
  // A load of packages from node_modules (the DynamoDB client on first use) has no bundle size.
  const rows = bundles.map((bundle) => [
    bundle.name,
    bundle.bytes ? String(bundle.bytes) : '–',
    bundle.bytes ? fmt(bundle.bytes / 1024) : '–',
    fmt(bundle.initMedianMs),
    fmt(bundle.initCpuMedianMs),
    String(bundle.initSamplesMs.length),
  ]);
  return formatTable(header, rows);
}

export function formatTargets(verdicts: TargetVerdict[]): string {
  const mark = (met: boolean | undefined) =>
    met === undefined ? '[n/a]    ' : met ? '[met]    ' : '[NOT MET]';
  return verdicts.map((v) => `${mark(v.met)} ${v.target}: ${v.detail}`).join('\n');
}

/** One latency's heading. */
function describeLatency(delayMs: number): string {
  return (
    `${delayMs} ms network latency on every byte the SMTP emulator sends ` +
    '(once per round trip, TLS handshake included; none on the token endpoint)'
  );
}

/** The whole plain-text report. */
export function formatReport(result: BenchResult): string {
  const { settings, machine } = result;
  const parts = [
    `o365-mail-queue bench — ${machine.date}, ${machine.cpus} × ${machine.cpuModel}, ${machine.platform}, Node ${machine.node}`,
    `${settings.messages} messages per variant, batches of ${settings.batch}, ` +
      `${settings.concurrency} SMTP sessions at once for (a) and (c)` +
      (settings.rounds > 1 ? `, median of ${settings.rounds} interleaved rounds` : '') +
      (settings.smoke ? ' (SMOKE: proves the bench runs, timings mean nothing)' : ''),
    'round trips/msg: server flights on the wire (what the server sent between two client sends) per message;',
    'billed ms/msg: each invocation (for (c) each batch handler) rounded up to the ms, as Lambda bills.',
  ];
  for (const delayMs of settings.delaysMs) {
    const variants = result.variants.filter((v) => v.delayMs === delayMs);
    if (variants.length === 0) continue;
    parts.push(
      '',
      describeLatency(delayMs),
      formatVariants(variants),
      '',
      ...formatRatios(variants),
    );
  }
  result.coldStarts.forEach((cold, index) => {
    const bundles = [
      cold.sender,
      ...(cold.senderAlternative ? [cold.senderAlternative] : []),
      cold.plain,
      ...(cold.firstUse ? [cold.firstUse] : []),
    ];
    const of =
      result.coldStarts.length > 1 ? ` — run ${index + 1} of ${result.coldStarts.length}` : '';
    parts.push(
      '',
      `Cold start (module initialisation, fresh node process per sample)${of}`,
      formatBundles(bundles),
    );
    if (index === result.coldStarts.length - 1) {
      parts.push('', ...bundles.map((b) => `${b.name}: ${b.description}`));
      parts.push(
        '',
        `Largest parts of "${cold.sender.name}": ` +
          cold.sender.topContributors.map((c) => `${c.name} ${fmt(c.bytes / 1024)} KB`).join(', '),
      );
    }
  });
  parts.push('', 'Targets', formatTargets(judgeTargets(result)));
  return parts.join('\n');
}
