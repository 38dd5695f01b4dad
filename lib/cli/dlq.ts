import { Command, InvalidArgumentError } from 'commander';
import type { ExitCode } from './exit-codes.ts';
import { type TargetCommandOptions, withTargetOptions } from './target-options.ts';

/** The work is loaded only when a dlq command runs, so `--help` stays quick. */
const impl = () => import('./run-dlq.ts');
const runner = async () => (await import('./run-with-target.ts')).runWithTarget;

type Done = (code: ExitCode) => void;

/** `o365-mail dlq list | show <id> | redrive [--dry-run] | purge [--yes]`. */
export function dlqCommand(done: Done): Command {
  const dlq = new Command('dlq').description(
    'inspect and replay dead letters (messages that could not be sent, with the reason)',
  );
  withTargetOptions(
    dlq
      .command('list')
      .description('list dead letters with FailureClass, FailureReason, FailureAt'),
  )
    .option('--limit <n>', 'at most this many', positiveInt, 1000)
    .action(async (options: TargetCommandOptions & { limit: number }) =>
      done(
        await (await runner())(options, async (target, out) =>
          (await impl()).list(target, out, options.limit),
        ),
      ),
    );
  withTargetOptions(
    dlq
      .command('show')
      .description('show one dead letter in full (by SQS message id or the message `id`)')
      .argument('<id>', 'SQS message id in the DLQ, or the mail message id'),
  ).action(async (id: string, options: TargetCommandOptions) =>
    done(
      await (await runner())(options, async (target, out) => (await impl()).show(target, out, id)),
    ),
  );
  withTargetOptions(
    dlq
      .command('redrive')
      .description(
        'move every dead letter back to the mail queue (SQS message-move task where available)',
      )
      .option('--dry-run', 'say what would move, move nothing'),
  ).action(async (options: TargetCommandOptions & { dryRun?: boolean }) =>
    done(
      await (await runner())(options, async (target, out) =>
        (await impl()).redrive(target, out, options.dryRun),
      ),
    ),
  );
  withTargetOptions(
    dlq
      .command('purge')
      .description('delete every dead letter (asks first unless --yes)')
      .option('--yes', 'do not ask'),
  ).action(async (options: TargetCommandOptions & { yes?: boolean }) =>
    done(
      await (await runner())(options, async (target, out) =>
        (await impl()).purge(target, out, options.yes),
      ),
    ),
  );
  return dlq;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer');
  return n;
}
