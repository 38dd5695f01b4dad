import { type InvalidMailMessageError, InvalidSendOptionsError } from '../errors.ts';
import { MailQueue, prepareMailMessage } from '../producer/mail-queue.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { messageFromFlags } from './message-from-flags.ts';
import { createOutput, type Output } from './output.ts';
import { runWithTarget } from './run-with-target.ts';
import type { SendCommandOptions } from './send.ts';

/** Builds, validates and enqueues the message (loaded only when `send` runs). */
export async function send(options: SendCommandOptions): Promise<ExitCode> {
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
      // The mail id is what `dlq show`, `npm start` and the sender's logs name the message by.
      out.line(prepared.id);
      if (out.interactive)
        out.error(out.color.dim(`queued on ${target.queueUrl} as SQS message ${messageId}`));
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

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
