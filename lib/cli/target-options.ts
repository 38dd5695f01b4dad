import { type Command, Option } from 'commander';
import type { TargetFlags } from './queue-target.ts';

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
