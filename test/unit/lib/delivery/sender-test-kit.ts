/**
 * Shared pieces for the batch tests: a scripted fake `MailSession` (our own seam, narrow on
 * purpose), Powertools logger/metrics whose output is captured from stdout, and a recorder of
 * visibility changes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { vi } from 'vitest';
import { ShortLogFormatter } from '../../../../lib/delivery/short-log-formatter.ts';
import type {
  ComposedMime,
  MailSession,
  RecipientRefusal,
  SendOutcome,
} from '../../../../lib/types.ts';

export interface FakeSession extends MailSession {
  /** What each send carried, read back from its MIME. */
  sent: { subject: string; mime: ComposedMime }[];
  opened: number;
  closed: number;
}

/**
 * Answers by subject: `reject…`, `retry…`, `throttle…`, `config…`; else per recipient: `defer…@`
 * gets `450 4.2.1`, `gone…@` gets `550 5.1.10`, anyone else gets the message.
 */
export function scriptedSessions(): { open: () => FakeSession; all: FakeSession[] } {
  const all: FakeSession[] = [];
  const open = (): FakeSession => {
    const session: FakeSession = {
      sent: [],
      opened: 1,
      closed: 0,
      async send(mime) {
        const subject = /^Subject: (.*)$/m.exec(mime.raw.toString('utf8'))?.[1] ?? '';
        session.sent.push({ subject, mime });
        return outcomeFor(subject, mime.envelope.to);
      },
      async close() {
        session.closed++;
      },
    };
    all.push(session);
    return session;
  };
  return { open, all };
}

function reply(text: string) {
  return { code: Number(text.slice(0, 3)), enhanced: text.split(' ')[1], text };
}

function outcomeFor(subject: string, envelope: string[]): SendOutcome {
  if (subject.startsWith('reject')) {
    const r = reply(
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    );
    return { kind: 'rejected', reason: `unknown recipient: ${r.text}`, reply: r };
  }
  if (subject.startsWith('retry')) return { kind: 'retry', reason: '451 4.7.500 Server busy' };
  if (subject.startsWith('throttle')) {
    return {
      kind: 'retry',
      reason: '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
      minDelaySeconds: 60,
    };
  }
  if (subject.startsWith('config')) {
    return {
      kind: 'config',
      reason: '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled',
      fix: 'enable SMTP AUTH on the mailbox',
    };
  }
  const refused = envelope.flatMap((recipient): RecipientRefusal[] => {
    if (/^defer/i.test(recipient)) {
      const r = reply('450 4.2.1 Mailbox temporarily unavailable');
      return [{ recipient, kind: 'retry', reason: `Temporary failure: ${r.text}`, reply: r }];
    }
    if (/^gone/i.test(recipient)) {
      const r = reply('550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found');
      return [{ recipient, kind: 'rejected', reason: `Recipient not found: ${r.text}`, reply: r }];
    }
    return [];
  });
  const accepted = envelope.filter((r) => !refused.some((x) => x.recipient === r));
  if (accepted.length === 0) {
    const kind = refused.some((r) => r.kind === 'retry') ? 'retry' : 'rejected';
    return { kind, reason: "Can't send mail - all recipients were rejected", refused };
  }
  return { kind: 'sent', response: '250 2.0.0 OK <queued>', accepted, refused };
}

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** Logger + metrics writing JSON to stdout, captured line by line. */
export function capturedObservability() {
  const lines: Record<string, unknown>[] = [];
  // Powertools writes INFO and EMF to stdout, WARN and ERROR to stderr.
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.trim().startsWith('{')) lines.push(JSON.parse(line));
    }
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  const logger = new Logger({
    serviceName: 'o365-mail-queue',
    logFormatter: new ShortLogFormatter(),
  });
  const metrics = new Metrics({ namespace: 'O365MailQueue', serviceName: 'o365-mail-queue' });
  return {
    logger,
    metrics,
    logs: () => lines.filter((l) => typeof l.level === 'string') as LogLine[],
    /** Sum of each metric over the EMF lines printed so far. */
    metricTotals: () => {
      const totals: Record<string, number> = {};
      for (const line of lines) {
        const defs = (
          line._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } | undefined
        )?.CloudWatchMetrics?.[0]?.Metrics;
        for (const { Name } of defs ?? []) {
          const v = line[Name];
          const values = Array.isArray(v) ? v : [v];
          totals[Name] = (totals[Name] ?? 0) + values.reduce((a: number, b) => a + Number(b), 0);
        }
      }
      return totals;
    },
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** Records the `VisibilityTimeout` each receipt handle was given. */
export function recordVisibilityChanges(sqs: SQSClient): Map<string, number> {
  const changes = new Map<string, number>();
  sqs.middlewareStack.remove('recordVisibilityChanges');
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ChangeMessageVisibilityBatchCommand') {
        const input = args.input as {
          Entries: { ReceiptHandle: string; VisibilityTimeout: number }[];
        };
        for (const e of input.Entries) changes.set(e.ReceiptHandle, e.VisibilityTimeout);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordVisibilityChanges' },
  );
  return changes;
}
