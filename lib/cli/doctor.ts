import { Command } from 'commander';
import type { StepResult } from '../doctor/doctor-step.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';

interface DoctorCommandOptions {
  sendTest?: string;
  to?: string;
  from?: string;
  json?: boolean;
}

/** `o365-mail doctor`: the whole path to Office 365, step by step. */
export function doctorCommand(done: (code: ExitCode) => void): Command {
  return new Command('doctor')
    .description(
      'check the path to Office 365 step by step: configuration, DNS, TCP, STARTTLS/TLS, token and its roles, AUTH, optional test send (SMTP, HVE or Graph)',
    )
    .option('--to <address>', 'send one test message to this address at the end')
    .option('--send-test <address>', 'the same as --to')
    .option('--from <address>', 'From of the test message, to check send-as (default: MAIL_SENDER)')
    .option('--json', 'print one JSON document (for scripts)')
    .addHelpText(
      'after',
      `
Reads the sender's configuration (MAIL_TRANSPORT, SMTP_*, O365_*, MAIL_SENDER, MAIL_SECRET_ARN)
from the environment and .env. Each failure is explained with its fix from the failure table.
With MAIL_TRANSPORT=graph it checks the Graph host, the token's audience and roles, and sends
through Graph; a refusal prints the RBAC for Applications commands for the mailbox.
Exit codes: 0 every step passed, 1 a step failed.

Examples:
  o365-mail doctor
  o365-mail doctor --to me@contoso.com
  MAIL_TRANSPORT=graph o365-mail doctor --to me@contoso.com
  o365-mail doctor --json`,
    )
    .action(async (options: DoctorCommandOptions) => done(await doctor(options)));
}

async function doctor(options: DoctorCommandOptions): Promise<ExitCode> {
  const out = createOutput(options.json === true);
  // Loaded on demand: MSAL and nodemailer are only needed here.
  const { runDoctor } = await import('../doctor/run-doctor.ts');
  out.line(out.color.bold('o365-mail doctor: the path to Office 365, step by step'));
  const report = await runDoctor({
    env: process.env,
    sendTestTo: options.to ?? options.sendTest,
    from: options.from,
    onStep: (step) => printStep(out, step),
  });
  out.result(report);
  out.line(
    report.ok
      ? out.color.green('\n✓ Every step passed.')
      : out.color.red('\n✗ A step failed: fix it (see above) and run doctor again.'),
  );
  return report.ok ? EXIT.ok : EXIT.failure;
}

function printStep(out: Output, step: StepResult): void {
  const c = out.color;
  const title = step.title.padEnd(13);
  switch (step.status) {
    case 'ok':
      out.line(`${c.green('✓')} ${c.bold(title)} ${step.details[0] ?? ''}`);
      for (const detail of step.details.slice(1)) out.line(`  ${' '.repeat(13)} ${detail}`);
      for (const warning of step.warnings ?? [])
        out.line(`  ${' '.repeat(13)} ${c.yellow(`! ${warning}`)}`);
      return;
    case 'failed':
      out.line(`${c.red('✗')} ${c.bold(title)} ${c.red(step.failure.reason)}`);
      for (const detail of step.details) out.line(`  ${' '.repeat(13)} ${detail}`);
      out.line(`  ${' '.repeat(13)} ${c.bold('What it means:')} ${step.failure.explanation}`);
      out.line(`  ${' '.repeat(13)} ${c.bold('Fix:')} ${step.failure.fix}`);
      return;
    case 'skipped':
      out.line(c.dim(`- ${title} ${step.note}`));
      return;
  }
}
