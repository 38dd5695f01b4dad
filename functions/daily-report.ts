/**
 * Lambda entry point of the scheduled daily report (EventBridge rule): yesterday's sender figures
 * from CloudWatch, as CSV, through the mail queue. Thin on purpose; the work is in lib/reports/.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ScheduledEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../lib/delivery/observability.ts';
import { MailQueue } from '../lib/producer/mail-queue.ts';
import { cloudWatchDailyFigures } from '../lib/reports/cloudwatch-daily-figures.ts';
import { type DailyReportOutcome, runDailyReport } from '../lib/reports/daily-report.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `daily-report: ${name} is not set; the stack sets it, check the function's environment`,
    );
  return value;
}

const queue = new MailQueue({ queueUrl: required('MAIL_QUEUE_URL') });
const source = cloudWatchDailyFigures({
  client: new CloudWatchClient({}),
  namespace: METRICS_NAMESPACE,
  // The sender's metric dimension; the stack sets it when the sender has a name of its own.
  serviceName: process.env.MAIL_SENDER_SERVICE_NAME || SERVICE_NAME,
});
const to = required('REPORT_TO').split(',');

export async function handler(event: ScheduledEvent): Promise<DailyReportOutcome> {
  // The event's own time, not the clock: a retried delivery reports the same day.
  const outcome = await runDailyReport({ source, queue, to, now: new Date(event.time) });
  console.log(JSON.stringify({ message: 'daily report enqueued', ...outcome }));
  return outcome;
}
