import { createInterface } from 'node:readline/promises';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { SingleBar } from 'cli-progress';
import { type DeadLetter, findDeadLetter, readDeadLetters, visibleCount } from './dead-letters.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { explainDeadLetter } from './explain-dead-letter.ts';
import { formatTable, type Output } from './output.ts';
import { dlqUrlFromRedrivePolicy, type QueueTarget } from './queue-target.ts';
import { redriveDeadLetters } from './redrive-dead-letters.ts';

export async function list(target: QueueTarget, out: Output, limit: number): Promise<ExitCode> {
  const dlqUrl = await requireDlq(target, out);
  if (!dlqUrl) return EXIT.usage;
  const letters = await readDeadLetters(target.client, dlqUrl, limit);
  out.result({ dlqUrl, count: letters.length, deadLetters: letters.map(withoutBody) });
  if (letters.length === 0) {
    out.line(out.color.green(`✓ The dead-letter queue is empty (${dlqUrl}).`));
    return EXIT.ok;
  }
  const c = out.color;
  const rows = [
    ['MESSAGE ID', 'CLASS', 'FAILED AT', 'TO', 'SUBJECT', 'REASON'].map((h) => c.bold(h)),
    ...letters.map((l) => [
      l.messageId,
      colourClass(out, l.failureClass ?? 'retries exhausted'),
      l.failureAt ?? l.sentAt ?? '',
      (l.to ?? []).join(', '),
      truncate(l.subject ?? '', 40),
      truncate(l.failureReason ?? '', 80),
    ]),
  ];
  for (const row of formatTable(rows)) out.line(row);
  out.line(c.dim(`${letters.length} dead letter(s) in ${dlqUrl}`));
  return EXIT.ok;
}

export async function show(target: QueueTarget, out: Output, id: string): Promise<ExitCode> {
  const dlqUrl = await requireDlq(target, out);
  if (!dlqUrl) return EXIT.usage;
  const letter = findDeadLetter(await readDeadLetters(target.client, dlqUrl), id);
  if (!letter) {
    out.result({ found: false, id });
    out.error(`No dead letter with id ${id} in ${dlqUrl}.`);
    return EXIT.failure;
  }
  const advice = explainDeadLetter(letter);
  out.result({ found: true, ...letter, advice });
  const c = out.color;
  const field = (name: string, value: string | undefined) =>
    out.line(`${c.bold(name.padEnd(14))} ${value ?? c.dim('—')}`);
  field('Message id', letter.messageId);
  field('Mail id', letter.mailId);
  field(
    'FailureClass',
    letter.failureClass
      ? colourClass(out, letter.failureClass)
      : 'retries exhausted (moved by SQS after maxReceiveCount)',
  );
  field('FailureReason', letter.failureReason);
  field('FailureAt', letter.failureAt);
  field('What it means', advice.explanation);
  field('Fix', advice.fix);
  field('Sent at', letter.sentAt);
  field('To', letter.to?.join(', '));
  field('Subject', letter.subject);
  out.line(c.bold('Body'));
  out.line(prettyBody(letter.body));
  return EXIT.ok;
}

export async function redrive(target: QueueTarget, out: Output, dryRun = false): Promise<ExitCode> {
  const dlqUrl = await requireDlq(target, out);
  if (!dlqUrl) return EXIT.usage;
  const c = out.color;
  if (dryRun) {
    const count = await visibleCount(target.client, dlqUrl);
    out.result({ dryRun: true, dlqUrl, queueUrl: target.queueUrl, wouldMove: count });
    out.line(
      `Would move ${c.bold(String(count))} message(s) from ${dlqUrl} to ${target.queueUrl ?? 'their source queue'}. Nothing moved (--dry-run).`,
    );
    return EXIT.ok;
  }
  const bar = out.interactive
    ? new SingleBar({
        format: 'redrive [{bar}] {value}/{total}',
        stream: process.stderr,
        hideCursor: true,
      })
    : undefined;
  let started = false;
  const result = await redriveDeadLetters({
    client: target.client,
    dlqUrl,
    queueUrl: target.queueUrl,
    onProgress(moved, total) {
      if (!bar) return;
      if (!started) bar.start(total, 0);
      started = true;
      bar.setTotal(total);
      bar.update(moved);
    },
  }).finally(() => bar?.stop());
  out.result({ dlqUrl, queueUrl: target.queueUrl, ...result });
  if (result.failed > 0) {
    out.line(
      c.red(
        `✗ Moved ${result.moved}, ${result.failed} left in the DLQ: ${result.failureReason ?? 'unknown reason'}`,
      ),
    );
    return EXIT.failure;
  }
  out.line(
    c.green(
      `✓ Moved ${result.moved} message(s) back to ${target.queueUrl ?? 'their source queue'}`,
    ) + c.dim(result.method === 'none' ? '' : ` (${result.method})`),
  );
  return EXIT.ok;
}

export async function purge(target: QueueTarget, out: Output, yes = false): Promise<ExitCode> {
  const dlqUrl = await requireDlq(target, out);
  if (!dlqUrl) return EXIT.usage;
  const count = await visibleCount(target.client, dlqUrl);
  if (!yes) {
    if (!out.interactive || !process.stdin.isTTY) {
      out.error(
        `Refusing to delete ${count} dead letter(s) without --yes (not a terminal to ask).`,
      );
      return EXIT.usage;
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(
      `Delete ${count} dead letter(s) from ${dlqUrl} for good? [y/N] `,
    );
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      out.line('Nothing deleted.');
      return EXIT.failure;
    }
  }
  await target.client.send(new PurgeQueueCommand({ QueueUrl: dlqUrl }));
  out.result({ purged: true, dlqUrl, approximateCount: count });
  out.line(out.color.green(`✓ Purged ${dlqUrl} (${count} message(s)).`));
  return EXIT.ok;
}

/** The DLQ URL from the target, else from the mail queue's redrive policy. */
async function requireDlq(target: QueueTarget, out: Output): Promise<string | undefined> {
  const url = target.dlqUrl ?? (await dlqUrlFromRedrivePolicy(target));
  if (!url)
    out.error('No dead-letter queue: pass --dlq-url (or a --queue-url that has a redrive policy).');
  return url;
}

function colourClass(out: Output, failureClass: string): string {
  return failureClass === 'invalid' ? out.color.magenta(failureClass) : out.color.red(failureClass);
}

function withoutBody(letter: DeadLetter): Omit<DeadLetter, 'body'> {
  const { body: _body, ...rest } = letter;
  return rest;
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
