import { breakerStoreFromEnv } from '../guards/breaker/breaker-from-env.ts';
import type { BreakerState, BreakerStore } from '../guards/breaker/breaker-state.ts';
import {
  EventSourceMappingSwitch,
  type SwitchResult,
} from '../guards/breaker/event-source-mapping-switch.ts';
import { FileBreakerStore } from '../guards/breaker/file-breaker-store.ts';
import { queueArnFromUrl } from '../local/lambda-sqs-event.ts';
import { localStateFile, readLocalState } from '../local/local-state.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';
import { type QueueTarget, queueNameOf } from './queue-target.ts';

export interface ResumeOptions {
  /** The breaker's table; default `MAIL_STATE_TABLE`, else the sender function's own setting. */
  stateTable?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Resumes consuming the target's mail queue: in AWS, switches the queue's event source mapping(s)
 * back on, then marks the breaker resumed in its store (the mapping first: a store that says
 * "resumed" while the mapping stays off would strand the mail).
 */
export async function resume(
  target: QueueTarget,
  out: Output,
  options: ResumeOptions = {},
): Promise<ExitCode> {
  const c = out.color;
  if (!target.queueUrl) {
    out.error(c.red('resume needs the mail queue: --queue-url, --stack or MAIL_QUEUE_URL.'));
    return EXIT.usage;
  }
  const env = options.env ?? process.env;
  const queue = queueNameOf(target.queueUrl);
  const mappings = target.local
    ? undefined
    : new EventSourceMappingSwitch({
        queueArn: queueArnFromUrl(target.queueUrl, target.region),
        clientConfig: { region: target.region },
      });
  const store = await breakerStore(target, queue, env, options.stateTable);
  if (!store && !mappings) {
    out.error(
      c.red(
        `No breaker state found for ${queue}: pass --state-table, set MAIL_STATE_TABLE (or MAIL_BREAKER_FILE), or start the local pipeline.`,
      ),
    );
    return EXIT.usage;
  }
  const before = store ? await store.read() : undefined;
  const switched = await mappings?.resume();
  if (switched && !switched.ok) {
    out.result({ queue, resumed: false, error: switched.error });
    out.error(c.red(`Could not switch the event source mapping on: ${switched.error}`));
    return EXIT.failure;
  }
  const resumed = store ? await store.resume((options.now ?? Date.now)()) : false;
  out.result({
    queue,
    wasPaused: before?.paused ?? false,
    pause: pauseOf(before),
    resumed,
    switched,
  });
  report(out, queue, before, resumed, switched);
  return EXIT.ok;
}

/** The local pipeline's file, a store the environment (or `--state-table`) names, or the sender's own. */
async function breakerStore(
  target: QueueTarget,
  queue: string,
  env: NodeJS.ProcessEnv,
  stateTable: string | undefined,
): Promise<BreakerStore | undefined> {
  if (target.source === 'local pipeline') {
    const file = readLocalState(localStateFile(env))?.breakerFile;
    return file ? new FileBreakerStore(file) : undefined;
  }
  const table =
    stateTable ??
    env.MAIL_STATE_TABLE ??
    (target.local ? undefined : await senderStateTable(target));
  const fromEnv = table ? { ...env, MAIL_STATE_TABLE: table } : env;
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  return breakerStoreFromEnv(fromEnv, queue, new DynamoDBClient({ region: target.region }));
}

/** `MAIL_STATE_TABLE` of the function that consumes the queue (from its event source mapping). */
async function senderStateTable(target: QueueTarget): Promise<string | undefined> {
  const { LambdaClient, ListEventSourceMappingsCommand, GetFunctionConfigurationCommand } =
    await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient({ region: target.region });
  try {
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({
        EventSourceArn: queueArnFromUrl(target.queueUrl!, target.region),
      }),
    );
    for (const mapping of EventSourceMappings) {
      if (!mapping.FunctionArn) continue;
      const config = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: mapping.FunctionArn }),
      );
      const table = config.Environment?.Variables?.MAIL_STATE_TABLE;
      if (table) return table;
    }
    return undefined;
  } finally {
    lambda.destroy();
  }
}

function pauseOf(state: BreakerState | undefined) {
  if (!state?.paused) return undefined;
  const { cause, reason, fix, since } = state;
  return { cause, reason, fix, since: new Date(since).toISOString() };
}

function report(
  out: Output,
  queue: string,
  before: BreakerState | undefined,
  resumed: boolean,
  switched: SwitchResult | undefined,
): void {
  const c = out.color;
  if (before?.paused) {
    const what = before.cause === 'config' ? 'configuration error' : 'outage';
    out.line(
      `Consuming of ${c.bold(queue)} was paused since ${new Date(before.since).toISOString()} (${what}: ${before.reason}).`,
    );
  } else {
    out.line(`Consuming of ${c.bold(queue)} was not paused by the circuit breaker.`);
  }
  if (switched?.ok) {
    out.line(`Event source mapping ${switched.mappings.join(', ')} switched on.`);
  }
  out.line(resumed || switched?.ok ? c.green('✓ Consuming resumed.') : c.dim('Nothing to resume.'));
}
