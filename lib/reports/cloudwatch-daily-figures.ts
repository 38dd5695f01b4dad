import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { DailyFiguresSource, HourlyFigures, ReportDay } from './daily-figures.ts';

/** The sender's outcome metrics (see lib/delivery/observability.ts) and the report column each fills. */
const COLUMNS = {
  sent: 'MessagesSent',
  rejected: 'MessagesRejected',
  invalid: 'MessagesInvalid',
  retried: 'MessagesRetried',
} as const;
type Column = keyof typeof COLUMNS;

export interface CloudWatchDailyFiguresOptions {
  client: CloudWatchClient;
  /** Metric namespace of the sender. */
  namespace: string;
  /** The `service` dimension of the sender's metrics. */
  serviceName: string;
}

/** Hourly sums of the sender's outcome metrics, read with one paged `GetMetricData`. */
export function cloudWatchDailyFigures(options: CloudWatchDailyFiguresOptions): DailyFiguresSource {
  const queries: MetricDataQuery[] = Object.entries(COLUMNS).map(([id, metricName]) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: options.namespace,
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: options.serviceName }],
      },
      Period: 3600,
      Stat: 'Sum',
    },
  }));
  return {
    async hourly(day: ReportDay): Promise<HourlyFigures[]> {
      const rows = emptyDay(day);
      let nextToken: string | undefined;
      do {
        const page = await options.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: day.start,
            EndTime: day.end,
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
        for (const result of page.MetricDataResults ?? []) {
          const column = result.Id as Column;
          result.Timestamps?.forEach((time, i) => {
            const row = rows.get(time.getTime());
            if (row && column in COLUMNS) row[column] += result.Values?.[i] ?? 0;
          });
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return [...rows.values()];
    },
  };
}

/** 24 zero rows: an hour without any datapoint had no mail, and the report still shows it. */
function emptyDay(day: ReportDay): Map<number, HourlyFigures> {
  const rows = new Map<number, HourlyFigures>();
  for (let t = day.start.getTime(); t < day.end.getTime(); t += 3_600_000) {
    rows.set(t, { hour: new Date(t), sent: 0, rejected: 0, invalid: 0, retried: 0 });
  }
  return rows;
}
