import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.ts';
import { type StartedPipeline, spawnStart } from './spawn-start.ts';

let cwd: string;
let start: StartedPipeline;
const printed = (pattern: RegExp) => start.printed(pattern);

const stateFile = () => join(cwd, '.local', 'pipeline.json');
const cli = (args: string[]) => runCli(args, { cwd, env: { O365_LOCAL_STATE_FILE: stateFile() } });

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'o365-start-'));
  start = await spawnStart(cwd);
});
afterAll(async () => {
  await start?.kill();
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
      start.child.once('exit', (code) => resolve(code)),
    );
    start.child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(stateFile())).toBe(false);
  }, 60_000);

  it('stops with its parent process even when that one is killed outright', async () => {
    const hard = await spawnStart(mkdtempSync(join(tmpdir(), 'o365-start-kill-')));
    // kill() resolves only when the re-executed pipeline process, which shares stdout, has exited.
    await hard.kill();
    expect(hard.stdout).toMatch(/stopping…/);
  });
});
