import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { formatTable, type Output } from './output.ts';
import { dlqUrlFromRedrivePolicy, type QueueTarget, queueNameOf } from './queue-target.ts';

/** Depths of one queue, as SQS reports them (approximate by design). */
export interface QueueDepth {
  url: string;
  visible: number;
  inFlight: number;
  delayed: number;
  /** Age of the oldest message in seconds; `null` when unknown. */
  oldestAgeSeconds: number | null;
  /** Where the age came from: CloudWatch on AWS, the emulator's inspection endpoint locally. */
  ageSource: 'cloudwatch' | 'emulator' | 'empty' | 'unavailable';
}

/** Reads the depths (loaded only when `stats` runs). */
export async function stats(target: QueueTarget, out: Output): Promise<ExitCode> {
  const dlqUrl = target.dlqUrl ?? (await dlqUrlFromRedrivePolicy(target).catch(() => undefined));
  const queue = target.queueUrl ? await depthOf(target, target.queueUrl) : undefined;
  const dlq = dlqUrl ? await depthOf(target, dlqUrl) : undefined;
  out.result({ source: target.source, queue, dlq });
  const c = out.color;
  out.line(c.dim(`target: ${target.source}`));
  const rows = [['', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'OLDEST'].map((h) => c.bold(h))];
  if (queue) rows.push(row('mail queue', queue, out));
  if (dlq) rows.push(row(dlq.visible > 0 ? c.red('dead letters') : 'dead letters', dlq, out));
  for (const line of formatTable(rows)) out.line(line);
  if (queue) out.line(c.dim(`mail queue:   ${queue.url}`));
  if (dlq) out.line(c.dim(`dead letters: ${dlq.url}`));
  return EXIT.ok;
}

function row(name: string, depth: QueueDepth, out: Output): string[] {
  return [
    name,
    String(depth.visible),
    String(depth.inFlight),
    String(depth.delayed),
    depth.oldestAgeSeconds === null
      ? out.color.dim(depth.ageSource === 'empty' ? '—' : 'unknown')
      : formatAge(depth.oldestAgeSeconds),
  ];
}

async function depthOf(target: QueueTarget, url: string): Promise<QueueDepth> {
  const counts = await attributeCounts(target.client, url);
  const age = await oldestAge(target, url, counts.visible + counts.inFlight + counts.delayed);
  return { url, ...counts, ...age };
}

async function attributeCounts(client: SQSClient, url: string) {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/**
 * SQS has no attribute for the oldest message's age. On AWS it is the CloudWatch metric
 * `ApproximateAgeOfOldestMessage` (1-minute resolution, a few minutes behind). Locally the
 * emulator's read-only inspection endpoint lists the messages with their sent time: no receive,
 * so receive counts (and with them the redrive policy) are untouched.
 */
async function oldestAge(
  target: QueueTarget,
  url: string,
  total: number,
): Promise<Pick<QueueDepth, 'oldestAgeSeconds' | 'ageSource'>> {
  if (total === 0) return { oldestAgeSeconds: null, ageSource: 'empty' };
  const seconds = target.local
    ? await emulatorOldestAge(url)
    : await cloudWatchOldestAge(target.region, queueNameOf(url));
  if (seconds === undefined) return { oldestAgeSeconds: null, ageSource: 'unavailable' };
  return { oldestAgeSeconds: seconds, ageSource: target.local ? 'emulator' : 'cloudwatch' };
}

interface InspectedMessage {
  sentTimestamp?: number;
}
interface InspectedQueue {
  messages?: {
    ready?: InspectedMessage[];
    delayed?: InspectedMessage[];
    inflight?: { message: InspectedMessage }[];
  };
}

async function emulatorOldestAge(url: string): Promise<number | undefined> {
  const { origin } = new URL(url);
  try {
    const response = await fetch(
      `${origin}/_fauxqs/queues/${encodeURIComponent(queueNameOf(url))}`,
      {
        signal: AbortSignal.timeout(3000),
      },
    );
    if (!response.ok) return undefined;
    const { messages = {} } = (await response.json()) as InspectedQueue;
    const sent = [
      ...(messages.ready ?? []),
      ...(messages.delayed ?? []),
      ...(messages.inflight ?? []).map((m) => m.message),
    ]
      .map((m) => m.sentTimestamp)
      .filter((t): t is number => typeof t === 'number');
    if (sent.length === 0) return undefined;
    return Math.max(0, Math.round((Date.now() - Math.min(...sent)) / 1000));
  } catch {
    return undefined;
  }
}

async function cloudWatchOldestAge(region: string, queueName: string): Promise<number | undefined> {
  const { CloudWatchClient, GetMetricStatisticsCommand } = await import(
    '@aws-sdk/client-cloudwatch'
  );
  const cloudWatch = new CloudWatchClient({ region });
  try {
    const now = Date.now();
    const { Datapoints = [] } = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: queueName }],
        StartTime: new Date(now - 10 * 60_000),
        EndTime: new Date(now),
        Period: 60,
        Statistics: ['Maximum'],
      }),
    );
    const latest = Datapoints.sort(
      (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
    )[0];
    return latest?.Maximum;
  } catch {
    // No cloudwatch:GetMetricStatistics permission should not fail the whole command.
    return undefined;
  } finally {
    cloudWatch.destroy();
  }
}

export function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}
