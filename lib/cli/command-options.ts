import { type Command, Option } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';
import { type QueueTarget, resolveQueueTarget, type TargetFlags } from './queue-target.ts';

/** Adds the queue-selection flags and `--json` to a command. */
export function withTargetOptions(command: Command): Command {
  return command
    .option(
      '--queue-url <url>',
      'the mail queue (default: MAIL_QUEUE_URL, else the local pipeline)',
    )
    .option(
      '--dlq-url <url>',
      'the dead-letter queue (default: MAIL_DLQ_URL, else the local pipeline)',
    )
    .option('--stack <name>', 'read the queue URLs from this CloudFormation stack')
    .option('--region <region>', 'AWS region (default: AWS_REGION, else from the queue URL)')
    .option('--endpoint-url <url>', 'SQS endpoint (e.g. an emulator)')
    .addOption(new Option('--json', 'print one JSON document (for scripts)'));
}

export interface TargetCommandOptions extends TargetFlags {
  json?: boolean;
}

/**
 * Runs a queue command: resolves the target (exit 2 when there is none), runs `body`, maps an
 * SQS/AWS error to exit 3 with its message, and always releases the SDK client.
 */
export async function runWithTarget(
  options: TargetCommandOptions,
  body: (target: QueueTarget, out: Output) => Promise<ExitCode>,
): Promise<ExitCode> {
  const out = createOutput(options.json === true);
  const resolved = await resolveQueueTarget(options);
  if (!resolved.ok) {
    out.error(out.color.red(resolved.problem));
    return EXIT.usage;
  }
  try {
    return await body(resolved.target, out);
  } catch (error) {
    const err = error as Error;
    out.error(out.color.red(`${err.name}: ${err.message}`));
    return EXIT.service;
  } finally {
    resolved.target.client.destroy();
  }
}
