import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput } from '../../lib/cli/output.ts';

function streams(tty: boolean, env: NodeJS.ProcessEnv = {}) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  return { stdout, stderr, env };
}

const red = (json: boolean, s: ReturnType<typeof streams>) => createOutput(json, s).color.red('x');

describe('command-line colours', () => {
  it('colours a terminal, and nothing else', () => {
    expect(red(false, streams(true))).toBe('\x1b[31mx\x1b[39m');
    expect(red(false, streams(false))).toBe('x');
  });

  it('follows NO_COLOR and FORCE_COLOR, and never colours --json', () => {
    expect(red(false, streams(true, { NO_COLOR: '' }))).toBe('x');
    expect(red(false, streams(false, { FORCE_COLOR: '1' }))).toBe('\x1b[31mx\x1b[39m');
    expect(red(false, streams(false, { FORCE_COLOR: '0' }))).toBe('x');
    expect(red(true, streams(true, { FORCE_COLOR: '1' }))).toBe('x');
  });

  it('with --json prints only the JSON document on stdout', () => {
    const s = streams(false);
    const out = createOutput(true, s);
    out.line('for people');
    out.result({ ok: true });

    expect(String(s.stdout.read())).toBe('{\n  "ok": true\n}\n');
  });
});
