import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';

const START = new URL('../../lib/local/start.ts', import.meta.url).pathname;

let cwd: string;
let child: ChildProcess;
let stdout = '';
const waiters: { pattern: RegExp; resolve: () => void }[] = [];

/** Resolves when `npm start` has printed a line matching `pattern` (event-driven, no polling). */
function printed(pattern: RegExp): Promise<void> {
  if (pattern.test(stdout)) return Promise.resolve();
  return new Promise((resolve) => waiters.push({ pattern, resolve }));
}

const stateFile = () => join(cwd, '.local', 'pipeline.json');
const cli = (args: string[]) => runCli(args, { cwd, env: { O365_LOCAL_STATE_FILE: stateFile() } });

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'o365-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, O365_LOCAL_SQS_PORT: '0' };
  for (const key of Object.keys(env)) if (/^(MAIL_|SMTP_|FORCE_COLOR)/.test(key)) delete env[key];
  child = spawn(process.execPath, [START], { cwd, env });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(stdout)) w.resolve();
      else waiters.push(w);
    }
  });
  await printed(/state\s+\S+pipeline\.json/);
});
afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start', () => {
  it('runs until stopped; the CLI finds it through the state file; one line per outcome', async () => {
    expect(existsSync(stateFile())).toBe(true);

    const sent = await cli([
      'send',
      '--to',
      'ann@example.com',
      '--subject',
      'Hello local',
      '--text',
      'Hi',
    ]);
    const refused = await cli([
      'send',
      '--to',
      'unknown@example.invalid',
      '--subject',
      'Nobody',
      '--text',
      'Hi',
    ]);
    expect(sent.code).toBe(0);
    expect(refused.code).toBe(0);

    await printed(/✓ sent\s+\S+ "Hello local" → ann@example\.com/);
    await printed(
      /✗ dead-lettered: rejected\s+\S+ "Nobody" → unknown@example\.invalid — .*550 5\.1\.10/,
    );
    expect(readdirSync(join(cwd, 'outbox')).filter((f) => f.endsWith('.eml'))).toHaveLength(1);

    const dlq = await cli(['dlq', 'list', '--json']);
    expect(JSON.parse(dlq.stdout)).toMatchObject({
      count: 1,
      deadLetters: [{ failureClass: 'rejected', subject: 'Nobody' }],
    });
    const stats = await cli(['stats', '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      source: 'local pipeline',
      dlq: { visible: 1 },
    });

    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(stateFile())).toBe(false);
  }, 60_000);
});
