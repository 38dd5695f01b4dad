import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
// Imported, not read at run time: the bundled command line lives in dist/bin/, two levels from it.
import packageJson from '../../package.json' with { type: 'json' };
import { dlqCommand } from './dlq.ts';
import { doctorCommand } from './doctor.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { resumeCommand } from './resume.ts';
import { sendCommand } from './send.ts';
import { statsCommand } from './stats.ts';

/**
 * The `o365-mail` command line. Returns the exit code instead of exiting, so it can be tested
 * in-process and so pending output is flushed before the process ends.
 */
export async function main(argv: readonly string[] = process.argv): Promise<ExitCode> {
  loadDotEnv();
  let exitCode: ExitCode = EXIT.ok;
  const done = (code: ExitCode) => {
    exitCode = code;
  };
  const program = new Command('o365-mail')
    .description(
      'Operate the o365-mail-queue: enqueue mail, inspect and replay dead letters, check the path to Office 365, resume consuming after the circuit breaker paused it.',
    )
    .version(packageJson.version, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Target: --queue-url/--dlq-url, else --stack, else MAIL_QUEUE_URL/MAIL_DLQ_URL (environment or .env),
else the running local pipeline (npm start).
Exit codes: 0 ok, 1 a problem was found, 2 usage or configuration error, 3 the queue service failed.`,
    );
  program.addCommand(sendCommand(done));
  program.addCommand(dlqCommand(done));
  program.addCommand(statsCommand(done));
  program.addCommand(doctorCommand(done));
  program.addCommand(resumeCommand(done));
  for (const command of program.commands) exitOverrideDeep(command);

  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exitCode 0; everything else is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return exitCode;
}

/** Subcommands do not inherit exitOverride; without it commander would call process.exit itself. */
function exitOverrideDeep(command: Command): void {
  command.exitOverride();
  command.showHelpAfterError('(add --help for usage)');
  for (const child of command.commands) exitOverrideDeep(child);
}

/** `.env` in the working directory, when present; variables already set win (as with `--env-file`). */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}
