import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_LOG_LINE_BYTES,
  ShortLogFormatter,
} from '../../../../lib/delivery/short-log-formatter.ts';

let lines: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  lines = [];
});

function logger(): Logger {
  const keep = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(line);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  return new Logger({ serviceName: 'test', logFormatter: new ShortLogFormatter() });
}

const ids = { messageId: 'order-42', sqsMessageId: 'b3c1f2a0-sqs' };

describe('ShortLogFormatter', () => {
  it('leaves an ordinary line as Powertools writes it', () => {
    logger().info('sent', { ...ids, response: '250 2.0.0 OK <queued>', tags: { team: 'billing' } });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'INFO',
      message: 'sent',
      service: 'test',
      timestamp: expect.any(String),
      ...ids,
      response: '250 2.0.0 OK <queued>',
      tags: { team: 'billing' },
    });
  });

  it('cuts long values and lists, saying how much is left out, and keeps the ids', () => {
    logger().warn('invalid message moved to the DLQ', {
      ...ids,
      reason: `invalid message: ${'to[0] is not a valid email address: "x"; '.repeat(2000)}`,
      recipients: Array.from({ length: 500 }, (_, i) => `r${i}@example.com`),
    });
    const line = lines[0]!;
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject(ids);
    expect(parsed.reason).toMatch(/… \(\d+ more characters\)$/);
    expect(parsed.recipients.at(-1)).toMatch(/^… and \d+ more$/);
  });

  it('keeps every line within 8 KB, however much is attached, errors and cycles included', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    const error = new Error(`boom ${'e'.repeat(50_000)}`);
    const wide = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`key${i}`, 'v'.repeat(900)]),
    );
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: 'deep' } } } } } } } };
    const log = logger();
    log.error(`sender configuration error: ${'m'.repeat(20_000)}`, {
      ...ids,
      error,
      cycle,
      wide,
      deep,
    });
    log.info(
      'many fields',
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(1000)])),
    );
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'ERROR', ...ids });
    expect(JSON.parse(lines[0]!).message).toMatch(
      /^sender configuration error: m+… \(\d+ more characters\)$/,
    );
  });
});
