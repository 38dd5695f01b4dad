import { Command, InvalidArgumentError, Option } from 'commander';
import type { ExitCode } from './exit-codes.ts';
import type { MessageFlags } from './message-from-flags.ts';
import { type TargetCommandOptions, withTargetOptions } from './target-options.ts';

export interface SendCommandOptions extends TargetCommandOptions, MessageFlags {
  delay?: number;
  groupId?: string;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `o365-mail send`: validate a mail message, then put it on the mail queue. */
export function sendCommand(done: (code: ExitCode) => void): Command {
  const command = new Command('send')
    .description('validate a mail message and put it on the mail queue; prints the mail id')
    .option('--file <path>', 'a JSON mail message (- reads stdin); flags below override its fields')
    .option('--to <address>', 'recipient (repeat for more)', collect)
    .option('--cc <address>', 'copy recipient (repeat for more)', collect)
    .option('--bcc <address>', 'blind copy recipient (repeat for more)', collect)
    .option('--reply-to <address>', 'reply-to address (repeat for more)', collect)
    .option('--from <address>', 'sender (default: the configured sender mailbox)')
    .option('--subject <text>', 'subject')
    .option('--text <text>', 'plain-text body')
    .option('--html <html>', 'HTML body')
    .option('--attach <file>', 'attach a file (repeat for more; inline, so keep it small)', collect)
    .option('--id <id>', 'idempotency key (default: a random UUID)')
    .addOption(new Option('--priority <level>', 'priority').choices(['high', 'normal', 'low']))
    .option('--tag <key=value>', 'tag for logs and metrics (repeat for more)', collect)
    .option('--delay <seconds>', 'delay before it can be sent, 0-900', delaySeconds)
    .option('--group-id <id>', 'message group (FIFO queues)')
    .option('--dry-run', 'validate and print the message, send nothing')
    .addHelpText(
      'after',
      `
Examples:
  o365-mail send --to ann@example.com --subject "Hello" --text "It works"
  o365-mail send --file message.json --delay 60
  o365-mail send --to ops@example.com --subject Report --text "See attached" --attach report.csv`,
    );
  return withTargetOptions(command).action(async (options: SendCommandOptions) =>
    done(await (await import('./run-send.ts')).send(options)),
  );
}

function delaySeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 900) {
    throw new InvalidArgumentError('a whole number of seconds from 0 to 900');
  }
  return n;
}
