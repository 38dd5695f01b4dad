/** The figures a daily mail report is built from, and the seam that supplies them. */

/** What became of the mail in one hour (UTC). */
export interface HourlyFigures {
  /** Start of the hour. */
  hour: Date;
  sent: number;
  rejected: number;
  invalid: number;
  retried: number;
}

/** A UTC day: `[start, end)`. */
export interface ReportDay {
  /** `YYYY-MM-DD`. */
  label: string;
  start: Date;
  end: Date;
}

/** Supplies hourly figures; the Lambda reads them from CloudWatch, tests inject their own. */
export interface DailyFiguresSource {
  hourly(day: ReportDay): Promise<HourlyFigures[]>;
}

/** The UTC day before `now`: a report run at 06:00 covers the whole of yesterday. */
export function previousUtcDay(now: Date): ReportDay {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const start = new Date(end.getTime() - 86_400_000);
  return { label: start.toISOString().slice(0, 10), start, end };
}
