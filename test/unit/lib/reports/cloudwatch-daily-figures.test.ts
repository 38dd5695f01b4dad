import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudWatchDailyFigures } from '../../../../lib/reports/cloudwatch-daily-figures.ts';
import { previousUtcDay } from '../../../../lib/reports/daily-figures.ts';

const day = previousUtcDay(new Date('2026-11-22T06:00:00Z'));
const at = (h: number) => new Date(day.start.getTime() + h * 3_600_000);

describe('cloudWatchDailyFigures', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  afterEach(() => cloudWatch.reset());

  it('asks for hourly sums of the four outcome metrics of the service, over the whole day', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const source = cloudWatchDailyFigures({
      client: new CloudWatchClient({ region: 'eu-west-1' }),
      namespace: 'O365MailQueue',
      serviceName: 'o365-mail-queue',
    });

    const rows = await source.hourly(day);

    expect(rows).toHaveLength(24);
    expect(rows.every((r) => r.sent + r.rejected + r.invalid + r.retried === 0)).toBe(true);
    const input = cloudWatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ StartTime: day.start, EndTime: day.end });
    expect(
      input?.MetricDataQueries?.map((q) => [
        q.Id,
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Stat,
        q.MetricStat?.Period,
      ]),
    ).toEqual([
      ['sent', 'MessagesSent', 'Sum', 3600],
      ['rejected', 'MessagesRejected', 'Sum', 3600],
      ['invalid', 'MessagesInvalid', 'Sum', 3600],
      ['retried', 'MessagesRetried', 'Sum', 3600],
    ]);
    expect(input?.MetricDataQueries?.[0]?.MetricStat?.Metric).toMatchObject({
      Namespace: 'O365MailQueue',
      Dimensions: [{ Name: 'service', Value: 'o365-mail-queue' }],
    });
  });

  it('places datapoints in their hour and follows NextToken', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'sent', Timestamps: [at(0), at(5)], Values: [3, 7] }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'sent', Timestamps: [at(23)], Values: [1] },
          { Id: 'rejected', Timestamps: [at(5)], Values: [2] },
        ],
      });
    const source = cloudWatchDailyFigures({
      client: new CloudWatchClient({ region: 'eu-west-1' }),
      namespace: 'N',
      serviceName: 's',
    });

    const rows = await source.hourly(day);

    expect(cloudWatch.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe(
      'page-2',
    );
    expect(rows[0]).toEqual({ hour: at(0), sent: 3, rejected: 0, invalid: 0, retried: 0 });
    expect(rows[5]).toEqual({ hour: at(5), sent: 7, rejected: 2, invalid: 0, retried: 0 });
    expect(rows[23]?.sent).toBe(1);
  });
});
