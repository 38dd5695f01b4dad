import { Command, Option } from 'commander';
import type { ExitCode } from './exit-codes.ts';
import { type TargetCommandOptions, withTargetOptions } from './target-options.ts';

export interface ResumeCommandOptions extends TargetCommandOptions {
  stateTable?: string;
}

/** `o365-mail resume`: consuming starts again at once, without waiting for the breaker's probe. */
export function resumeCommand(done: (code: ExitCode) => void): Command {
  return withTargetOptions(
    new Command('resume').description(
      'resume consuming the mail queue after the circuit breaker paused it (once the cause is fixed)',
    ),
  )
    .addOption(
      new Option(
        '--state-table <name>',
        "DynamoDB table holding the breaker's state (default: MAIL_STATE_TABLE, else the sender function's own setting)",
      ),
    )
    .addHelpText(
      'after',
      `
The sender pauses consuming on a configuration error or a sustained outage, and its scheduled
probe resumes it once the probe gets through. Run this after fixing the cause to resume at once:
it switches the sender's event source mapping back on and marks the breaker resumed.

Examples:
  o365-mail resume --stack O365MailQueue
  o365-mail resume --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/mail
  o365-mail resume              (the local pipeline of npm start)`,
    )
    .action(async (options: ResumeCommandOptions) =>
      done(
        await (await import('./run-with-target.ts')).runWithTarget(options, async (target, out) =>
          (await import('./run-resume.ts')).resume(target, out, options),
        ),
      ),
    );
}
