import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Colors } from 'picocolors/types.js';
import { formatTable } from '../cli/output.ts';
import { MailQueue } from '../producer/mail-queue.ts';
import { DEMO_SAMPLES, type DemoSample, isFinal } from './demo-samples.ts';
import { type LocalPipeline, type MessageOutcome, startLocalPipeline } from './local-pipeline.ts';
import { formatOutcomeLine } from './outcome-line.ts';

export interface DemoOptions {
  outboxDir: string;
  color: Colors;
  /** Give up on samples that have not ended by then. @default 45000 */
  timeoutMs?: number;
  /**
   * Scale of the sender's retry delays (`MAIL_RETRY_TIME_SCALE`): 0.02 turns the 60 s floor after
   * a throttling reply into about 2 s. @default 0.02
   */
  retryTimeScale?: number;
}

/**
 * `npm run demo`: starts the pipeline in this process, enqueues the samples, waits until each has
 * ended (no polling: outcomes arrive as the event source reports them), prints a table, and
 * returns 0 only when every sample ended as expected.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const c = options.color;
  const outcomes = new Map<string, MessageOutcome[]>();
  let notify = () => {};
  const pipeline = await startLocalPipeline({
    sqsPort: 0,
    smtp: 'capture',
    outboxDir: options.outboxDir,
    retryTimeScale: options.retryTimeScale ?? 0.02,
    onOutcome(outcome) {
      console.log(formatOutcomeLine(outcome, c));
      outcomes.set(outcome.sqsMessageId, [...(outcomes.get(outcome.sqsMessageId) ?? []), outcome]);
      notify();
    },
  });
  const before = new Set(emlFiles(options.outboxDir));
  try {
    console.log(c.bold(`Demo: ${DEMO_SAMPLES.length} messages through the local pipeline`));
    const ids = await enqueue(pipeline, DEMO_SAMPLES);
    const allEnded = () => ids.every((id) => outcomes.get(id)?.some(isFinal));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? 45_000);
      notify = () => {
        if (allEnded()) {
          clearTimeout(timer);
          resolve();
        }
      };
      notify();
    });
    const finals = ids.map((id) => outcomes.get(id)?.find(isFinal));
    const ok = printTable(DEMO_SAMPLES, finals, c);
    const saved = emlFiles(options.outboxDir).filter((f) => !before.has(f));
    console.log(`\n${saved.length} message(s) saved as .eml in ${options.outboxDir}:`);
    for (const file of saved) console.log(c.dim(`  ${join(options.outboxDir, file)}`));
    console.log(
      ok
        ? c.green(`\n✓ Every sample ended as expected.`)
        : c.red(`\n✗ Some samples did not end as expected (see the table).`),
    );
    return ok ? 0 : 1;
  } finally {
    await pipeline.stop();
  }
}

async function enqueue(pipeline: LocalPipeline, samples: readonly DemoSample[]): Promise<string[]> {
  const queue = new MailQueue({ queueUrl: pipeline.sqs.queueUrl, client: pipeline.sqs.client });
  const ids: string[] = [];
  for (const sample of samples) {
    if ('raw' in sample.message) {
      const sent = await pipeline.sqs.client.send(
        new SendMessageCommand({
          QueueUrl: pipeline.sqs.queueUrl,
          MessageBody: sample.message.raw,
        }),
      );
      ids.push(sent.MessageId!);
    } else {
      ids.push(await queue.send(sample.message));
    }
  }
  return ids;
}

function printTable(
  samples: readonly DemoSample[],
  finals: (MessageOutcome | undefined)[],
  c: Colors,
): boolean {
  let ok = true;
  const rows = [['', 'SAMPLE', 'EXPECTED', 'OUTCOME', 'ATTEMPTS', 'DETAIL'].map((h) => c.bold(h))];
  samples.forEach((sample, i) => {
    const outcome = finals[i];
    const good = outcome !== undefined && sample.isExpected(outcome);
    ok &&= good;
    rows.push([
      good ? c.green('✓') : c.red('✗'),
      sample.name,
      sample.expected,
      outcome ? describe(outcome) : 'no outcome (timed out)',
      outcome ? String(outcome.attempt) : '-',
      truncate(outcome?.reason ?? '', 70),
    ]);
  });
  console.log('');
  for (const line of formatTable(rows)) console.log(line);
  return ok;
}

function describe(outcome: MessageOutcome): string {
  if (outcome.kind === 'dead-lettered') return `dead-lettered: ${outcome.failureClass ?? '?'}`;
  if (outcome.kind === 'sent' && outcome.attempt > 1) return 'sent after a retry';
  return outcome.kind;
}

function emlFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort();
  } catch {
    return [];
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
