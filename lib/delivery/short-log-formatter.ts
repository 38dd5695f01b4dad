/**
 * Log lines that stay short whatever a message holds: the Powertools log structure, with every
 * value cut to a readable size and every line within {@link MAX_LOG_LINE_BYTES}. A producer
 * controls much of what the sender reports (addresses, header names, subjects in errors) and a
 * server controls its replies; neither may turn one log line into 85 KB of echoed input, which costs
 * CloudWatch ingestion and hides the line that matters.
 *
 * A formatter of our own because Powertools' default one (`PowertoolsLogFormatter`) is not exported;
 * the base fields below are the ones it writes, in its order.
 */
import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/** No log line is longer than this (UTF-8 bytes of the JSON). */
export const MAX_LOG_LINE_BYTES = 8 * 1024;
/** The message itself is cut at this many characters. */
const MAX_MESSAGE_CHARS = 2_048;
/** Keys that identify the message a line is about: kept whatever else must go. */
const IDENTITY_KEYS = ['messageId', 'sqsMessageId', 'mailbox', 'cause'];

interface Limits {
  chars: number;
  items: number;
  keys: number;
  depth: number;
}

/** Generous first, then tight when the line would still be too long. */
const LIMITS: readonly Limits[] = [
  { chars: 1_024, items: 20, keys: 40, depth: 6 },
  { chars: 160, items: 5, keys: 12, depth: 3 },
];

export class ShortLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: clip(attributes.message ?? '', MAX_MESSAGE_CHARS),
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_arn: attributes.lambdaContext?.invokedFunctionArn,
      function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      sampling_rate: attributes.sampleRateValue,
      xray_trace_id: attributes.xRayTraceId,
      tenant_id: (attributes.lambdaContext as { tenantId?: string } | undefined)?.tenantId,
    };
    for (const limits of LIMITS) {
      const extra = shorten(additional, limits, this, new Set()) as LogAttributes;
      if (jsonBytes({ ...base, ...extra }) <= MAX_LOG_LINE_BYTES) {
        return new LogItem({ attributes: base }).addAttributes(extra);
      }
    }
    const kept = Object.fromEntries(
      IDENTITY_KEYS.filter((k) => typeof additional[k] === 'string').map((k) => [
        k,
        clip(String(additional[k]), 160),
      ]),
    );
    return new LogItem({ attributes: base }).addAttributes({
      ...kept,
      truncated: `attributes left out: the line would exceed ${MAX_LOG_LINE_BYTES} bytes`,
    });
  }
}

/** A copy of `value` within `limits`: long strings cut, long lists and objects cut with a count. */
function shorten(
  value: unknown,
  limits: Limits,
  formatter: LogFormatter,
  seen: Set<object>,
  depth = 0,
): unknown {
  if (typeof value === 'string') return clip(value, limits.chars);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= limits.depth) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  seen.add(value);
  try {
    if (value instanceof Error) {
      return shorten(formatter.formatError(value), limits, formatter, seen, depth + 1);
    }
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) {
      const items = value
        .slice(0, limits.items)
        .map((item) => shorten(item, limits, formatter, seen, depth + 1));
      if (value.length > limits.items) items.push(`… and ${value.length - limits.items} more`);
      return items;
    }
    const entries = Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries.slice(0, limits.keys)) {
      out[clip(key, 64)] = shorten(item, limits, formatter, seen, depth + 1);
    }
    if (entries.length > limits.keys) out['…'] = `${entries.length - limits.keys} more keys`;
    return out;
  } finally {
    seen.delete(value);
  }
}

/** `text` cut to `max` characters (not splitting a surrogate pair), saying how much was left out. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = Array.from(text.slice(0, max)).join('');
  return `${kept}… (${text.length - kept.length} more characters)`;
}

function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
