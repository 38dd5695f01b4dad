import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMailMessageJson } from '../../../../lib/message/parse-mail-message.ts';
import { MailQueue } from '../../../../lib/producer/mail-queue.ts';
import type {
  DailyFiguresSource,
  HourlyFigures,
  ReportDay,
} from '../../../../lib/reports/daily-figures.ts';
import { previousUtcDay } from '../../../../lib/reports/daily-figures.ts';
import { runDailyReport } from '../../../../lib/reports/daily-report.ts';
import { type SqsEmulator, startSqsEmulator } from '../../../emulators/sqs-emulator.ts';

/** A figures source that remembers which day it was asked for. */
function fixedFigures(figures: (day: ReportDay) => HourlyFigures[]) {
  const asked: ReportDay[] = [];
  const source: DailyFiguresSource = {
    async hourly(day) {
      asked.push(day);
      return figures(day);
    },
  };
  return { source, asked };
}

const hour = (
  day: ReportDay,
  h: number,
  sent: number,
  rejected = 0,
  invalid = 0,
  retried = 0,
): HourlyFigures => ({
  hour: new Date(day.start.getTime() + h * 3_600_000),
  sent,
  rejected,
  invalid,
  retried,
});

describe('previousUtcDay', () => {
  it('is the whole UTC day before the run, whatever the time of day', () => {
    expect(previousUtcDay(new Date('2026-11-22T06:00:00Z'))).toEqual({
      label: '2026-11-21',
      start: new Date('2026-11-21T00:00:00Z'),
      end: new Date('2026-11-22T00:00:00Z'),
    });
    expect(previousUtcDay(new Date('2026-03-01T00:00:00Z')).label).toBe('2026-02-28');
  });
});

describe('runDailyReport through the producer library to SQS', () => {
  let sqs: SqsEmulator;
  let queueUrl: string;

  beforeAll(async () => {
    sqs = await startSqsEmulator();
    ({ queueUrl } = await sqs.createQueueWithDlq('report-mail'));
  });
  afterAll(() => sqs.stop());

  it('enqueues one valid mail message with the summary and the hourly CSV attached', async () => {
    const { source, asked } = fixedFigures((day) => [
      hour(day, 0, 5, 1),
      hour(day, 13, 20, 0, 2, 4),
    ]);
    const queue = new MailQueue({ queueUrl, client: sqs.client });

    const outcome = await runDailyReport({
      source,
      queue,
      to: ['reports@contoso.com'],
      now: new Date('2026-11-22T06:00:03Z'),
    });

    expect(outcome).toEqual({
      kind: 'enqueued',
      day: '2026-11-21',
      totals: { sent: 25, rejected: 1, invalid: 2, retried: 4 },
    });
    expect(asked.map((d) => d.label)).toEqual(['2026-11-21']);
    const got = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
    );
    expect(got.Messages).toHaveLength(1);
    // The consumer's own parser accepts it: the report honours the message contract.
    const parsed = parseMailMessageJson(got.Messages?.[0]?.Body ?? '');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const { message } = parsed;
    expect(message.id).toBe('daily-report-2026-11-21');
    expect(message.to).toEqual([{ address: 'reports@contoso.com' }]);
    expect(message.subject).toBe('Mail queue daily report 2026-11-21');
    expect(message.text).toMatch(/sent 25, rejected 1, invalid 2, retried 4/);
    const [attachment] = message.attachments;
    expect(attachment).toMatchObject({
      filename: 'mail-queue-2026-11-21.csv',
      contentType: 'text/csv',
    });
    const csv = Buffer.from((attachment as { content: string }).content, 'base64').toString('utf8');
    expect(csv.split('\r\n')).toEqual([
      'hour_utc,sent,rejected,invalid,retried',
      '2026-11-21T00:00Z,5,1,0,0',
      '2026-11-21T13:00Z,20,0,2,4',
      '',
    ]);
  });

  it('gives the FIFO queue a message group, which the producer requires there', async () => {
    const fifoUrl = await sqs.createQueue('report-mail.fifo', {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    const queue = new MailQueue({ queueUrl: fifoUrl, client: sqs.client });
    const { source } = fixedFigures(() => []);
    await runDailyReport({
      source,
      queue,
      to: ['reports@contoso.com'],
      now: new Date('2026-11-22T06:00:00Z'),
    });
    const got = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: fifoUrl,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    expect(got.Messages?.[0]?.Attributes?.MessageGroupId).toBe('daily-report');
  });
});
