import { Command } from 'commander';
import type { ExitCode } from './exit-codes.ts';
import { type TargetCommandOptions, withTargetOptions } from './target-options.ts';

/** `o365-mail stats`. */
export function statsCommand(done: (code: ExitCode) => void): Command {
  return withTargetOptions(
    new Command('stats').description(
      'queue depth, messages in flight, DLQ depth, age of the oldest message',
    ),
  ).action(async (options: TargetCommandOptions) =>
    done(
      await (await import('./run-with-target.ts')).runWithTarget(options, async (target, out) =>
        (await import('./run-stats.ts')).stats(target, out),
      ),
    ),
  );
}
