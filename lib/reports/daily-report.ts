import type { MailMessageInput } from '../message/parse-mail-message.ts';
import { toCsv } from './csv.ts';
import {
  type DailyFiguresSource,
  type HourlyFigures,
  previousUtcDay,
  type ReportDay,
} from './daily-figures.ts';

/** Anything that enqueues a mail message (the producer library's `MailQueue`). */
export interface MailEnqueuer {
  /** FIFO queues need a message group id on every send. */
  readonly fifo: boolean;
  send(message: MailMessageInput, options?: { groupId?: string }): Promise<unknown>;
}

export interface DailyReportOptions {
  source: DailyFiguresSource;
  queue: MailEnqueuer;
  /** Recipients of the report. */
  to: readonly string[];
  /** When the job runs (the schedule's event time); the report covers the UTC day before it. */
  now: Date;
}

export type DailyReportOutcome = { kind: 'enqueued'; day: string; totals: Totals };

type Totals = Omit<HourlyFigures, 'hour'>;

const HEADER = ['hour_utc', 'sent', 'rejected', 'invalid', 'retried'];

function sum(rows: readonly HourlyFigures[]): Totals {
  const totals: Totals = { sent: 0, rejected: 0, invalid: 0, retried: 0 };
  for (const row of rows) {
    totals.sent += row.sent;
    totals.rejected += row.rejected;
    totals.invalid += row.invalid;
    totals.retried += row.retried;
  }
  return totals;
}

/** The report as a mail message: a plain-text summary and the hourly figures as a CSV attachment. */
export function buildDailyReport(
  day: ReportDay,
  rows: readonly HourlyFigures[],
  to: readonly string[],
): MailMessageInput {
  const totals = sum(rows);
  const csv = toCsv(
    HEADER,
    rows.map((r) => [
      r.hour.toISOString().slice(0, 16).concat('Z'),
      r.sent,
      r.rejected,
      r.invalid,
      r.retried,
    ]),
  );
  return {
    // One report per day: if the schedule fires twice, the delivery ledger drops the second.
    id: `daily-report-${day.label}`,
    to: [...to],
    subject: `Mail queue daily report ${day.label}`,
    text: [
      `Mail queue figures for ${day.label} (UTC):`,
      `sent ${totals.sent}, rejected ${totals.rejected}, invalid ${totals.invalid}, retried ${totals.retried}.`,
      'Rejected and invalid messages wait in the dead-letter queue (o365-mail dlq list).',
      'The hourly figures are attached as CSV.',
    ].join('\n'),
    attachments: [
      {
        filename: `mail-queue-${day.label}.csv`,
        contentType: 'text/csv',
        content: Buffer.from(csv, 'utf8').toString('base64'),
      },
    ],
    tags: { job: 'daily-report', day: day.label },
  };
}

/** Builds yesterday's report and puts it on the mail queue. */
export async function runDailyReport(options: DailyReportOptions): Promise<DailyReportOutcome> {
  const day = previousUtcDay(options.now);
  const rows = await options.source.hourly(day);
  const message = buildDailyReport(day, rows, options.to);
  await options.queue.send(message, options.queue.fifo ? { groupId: 'daily-report' } : {});
  return { kind: 'enqueued', day: day.label, totals: sum(rows) };
}
