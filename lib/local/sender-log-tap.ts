/** What the sender logged about one SQS message (its one structured line per record). */
export interface SenderLogEntry {
  level: string;
  message: string;
  reason?: string;
  delaySeconds?: number;
  fix?: string;
}

/** A tap on the sender's structured logs in this process. */
export interface SenderLogTap {
  /** The latest entry the sender logged for this SQS message id, then forgotten. */
  take(sqsMessageId: string): SenderLogEntry | undefined;
  /** Puts stdout back as it was. */
  restore(): void;
}

/**
 * The sender logs one JSON line per record (its contract with CloudWatch). Locally those lines
 * would drown the one-line outcomes, so this tap keeps the per-record lines (those with an
 * `sqsMessageId`) for the outcome printer to quote their reason, drops INFO lines without a record
 * (session bookkeeping), and passes everything else through: configuration errors, warnings
 * without a record, any other output. With `verbose`, every line passes through as well.
 */
export function tapSenderLogs(options: { verbose?: boolean } = {}): SenderLogTap {
  const entries = new Map<string, SenderLogEntry>();
  // Powertools writes INFO to stdout and WARN/ERROR to stderr.
  const restorers = [process.stdout, process.stderr].map((stream) =>
    tapStream(stream, entries, options.verbose === true),
  );
  return {
    take(id) {
      const entry = entries.get(id);
      entries.delete(id);
      return entry;
    },
    restore() {
      for (const restore of restorers) restore();
    },
  };
}

function tapStream(
  stream: NodeJS.WriteStream,
  entries: Map<string, SenderLogEntry>,
  verbose: boolean,
): () => void {
  const original = stream.write;
  const tapped = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '';
    const kept = text
      .split('\n')
      .filter((line) => line !== '')
      .filter((line) => !remember(line, entries));
    if (verbose || kept.length > 0 || text === '') {
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    }
    // Swallowed: still honour the write callback, as a stream would.
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  stream.write = tapped as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

const QUIET_LEVELS = new Set(['DEBUG', 'INFO']);

/** Records a per-record sender line; true when it need not be printed. */
function remember(line: string, entries: Map<string, SenderLogEntry>): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const log = JSON.parse(line) as Record<string, unknown>;
    const id = log.sqsMessageId;
    if (typeof id !== 'string' || typeof log.message !== 'string') {
      // Session bookkeeping ("SMTP session opened") says nothing about an outcome; warnings and
      // errors without a record (a configuration problem) still show.
      return QUIET_LEVELS.has(String(log.level).toUpperCase());
    }
    entries.set(id, {
      level: String(log.level ?? ''),
      message: log.message,
      reason: typeof log.reason === 'string' ? log.reason : undefined,
      delaySeconds: typeof log.delaySeconds === 'number' ? log.delaySeconds : undefined,
      fix: typeof log.fix === 'string' ? log.fix : undefined,
    });
    // Errors (a broken configuration, with its fix) stay on screen as well.
    return String(log.level).toUpperCase() !== 'ERROR';
  } catch {
    return false;
  }
}
