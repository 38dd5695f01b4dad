import { Command, InvalidArgumentError, Option } from 'commander';
import { type InvalidMailMessageError, InvalidSendOptionsError } from '../errors.ts';
import { MailQueue, prepareMailMessage } from '../producer.ts';
import { runWithTarget, type TargetCommandOptions, withTargetOptions } from './command-options.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { type MessageFlags, messageFromFlags } from './message-from-flags.ts';
import { createOutput, type Output } from './output.ts';

interface SendCommandOptions extends TargetCommandOptions, MessageFlags {
  delay?: number;
  groupId?: string;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `o365-mail send`: validate a mail message, then put it on the mail queue. */
export function sendCommand(done: (code: ExitCode) => void): Command {
  const command = new Command('send')
    .description('validate a mail message and put it on the mail queue; prints the SQS message id')
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
    done(await send(options)),
  );
}

async function send(options: SendCommandOptions): Promise<ExitCode> {
  const out = createOutput(options.json === true);
  const built = await messageFromFlags(options);
  if (!built.ok) {
    out.error(out.color.red(built.problem));
    return EXIT.usage;
  }
  // Validated before any queue is contacted: an invalid message never needs credentials to be found out.
  const prepared = prepareMailMessage(built.input);
  if (!prepared.ok) return reportInvalid(out, prepared.error);
  const message = { ...built.input, id: prepared.id };
  if (options.dryRun) {
    out.result({
      valid: true,
      id: prepared.id,
      bytes: prepared.bytes,
      message: JSON.parse(prepared.body),
    });
    out.line(
      out.color.green(
        `✓ Valid message ${prepared.id} (${prepared.bytes} bytes). Not sent (--dry-run).`,
      ),
    );
    return EXIT.ok;
  }
  return runWithTarget(options, async (target, out) => {
    if (!target.queueUrl) {
      out.error('No mail queue: pass --queue-url (only a DLQ is configured).');
      return EXIT.usage;
    }
    const queue = new MailQueue({ queueUrl: target.queueUrl, client: target.client });
    try {
      const messageId = await queue.send(message, {
        delaySeconds: options.delay,
        groupId: options.groupId,
      });
      out.result({ messageId, id: prepared.id, queueUrl: target.queueUrl });
      out.line(messageId);
      if (out.interactive)
        out.error(out.color.dim(`queued mail ${prepared.id} on ${target.queueUrl}`));
      return EXIT.ok;
    } catch (error) {
      if (error instanceof InvalidSendOptionsError) {
        out.error(out.color.red(`--${kebab(error.option)}: ${error.message}`));
        return EXIT.usage;
      }
      throw error;
    }
  });
}

function reportInvalid(out: Output, error: InvalidMailMessageError): ExitCode {
  out.result({ valid: false, issues: error.issues });
  out.error(out.color.red(`✗ The message is invalid (nothing was sent):`));
  // Each issue's text already names its field (`to[0] is not a valid email address ...`).
  for (const issue of error.issues) out.error(`  - ${issue.message}`);
  return EXIT.failure;
}

function delaySeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 900) {
    throw new InvalidArgumentError('a whole number of seconds from 0 to 900');
  }
  return n;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
