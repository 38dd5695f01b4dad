import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

/** Each command's --help, and what it must mention for a user to get going. */
const HELP: [string[], RegExp[]][] = [
  [
    [],
    [
      /Usage: o365-mail/,
      /send/,
      /dlq/,
      /stats/,
      /doctor/,
      /resume/,
      /Exit codes: 0 ok, 1 .*, 2 .*, 3/,
    ],
  ],
  [
    ['send'],
    [
      /--to <address>/,
      /--file <path>/,
      /--attach <file>/,
      /--delay <seconds>/,
      /--group-id/,
      /--queue-url/,
      /--json/,
      /Examples:/,
    ],
  ],
  [['dlq'], [/list/, /show/, /redrive/, /purge/]],
  [
    ['dlq', 'list'],
    [/FailureClass/, /--limit/, /--dlq-url/, /--json/],
  ],
  [
    ['dlq', 'show'],
    [/<id>/, /--json/],
  ],
  [
    ['dlq', 'redrive'],
    [/--dry-run/, /message-move task/],
  ],
  [['dlq', 'purge'], [/--yes/]],
  [['stats'], [/depth/, /oldest/, /--stack <name>/, /--endpoint-url/]],
  [
    ['doctor'],
    [
      /--send-test <address>/,
      /--from <address>/,
      /Exit codes: 0 every step passed, 1 a step failed/,
    ],
  ],
  [
    ['resume'],
    [
      /circuit breaker paused it/,
      /scheduled\s+probe/,
      /--state-table <name>/,
      /--stack <name>/,
      /Examples:/,
    ],
  ],
];

describe('o365-mail --help', () => {
  it('explains every command and exits 0', async () => {
    const runs = await Promise.all(HELP.map(([command]) => runCli([...command, '--help'])));
    runs.forEach((run, i) => {
      const [command, expected] = HELP[i]!;
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      for (const pattern of expected) expect(run.stdout, command.join(' ')).toMatch(pattern);
    });
  });

  it('exits 2 on an unknown option or command, pointing at --help', async () => {
    const [option, command] = await Promise.all([
      runCli(['stats', '--bogus']),
      runCli(['frobnicate']),
    ]);

    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--bogus'");
    expect(option.stderr).toContain('--help');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'frobnicate'");
  });

  it('ends quietly when the reader closes the pipe first (o365-mail --help | head -0)', async () => {
    const bin = new URL('../../bin/o365-mail.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, 'close');

    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints the version', async () => {
    const run = await runCli(['--version']);

    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
