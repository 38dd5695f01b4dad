import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ProcessRun, runProcess } from '../run-process.ts';

const DEMO = new URL('../../lib/local/demo.ts', import.meta.url).pathname;

function runDemo(cwd: string, outbox: string): Promise<ProcessRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, O365_LOCAL_OUTBOX: outbox };
  for (const key of Object.keys(env))
    if (/^(MAIL_|SMTP_|O365_(?!LOCAL_OUTBOX)|FORCE_COLOR)/.test(key)) delete env[key];
  return runProcess(process.execPath, [DEMO], { cwd, env });
}

describe('npm run demo', () => {
  it('sends every sample through the local pipeline, prints the outcome table, leaves .eml files, exits 0', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'o365-demo-'));
    const outbox = join(cwd, 'my-outbox');

    const run = await runDemo(cwd, outbox);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const table = run.stdout.split('\n');
    const row = (name: string) => table.find((line) => line.includes(name)) ?? '';
    expect(row('✓  notification')).toMatch(/sent\s+sent\s+1/);
    expect(row('✓  report with CSV attachment')).toMatch(/sent\s+sent\s+1/);
    expect(row('✓  unknown recipient')).toMatch(
      /dead-lettered: rejected\s+dead-lettered: rejected\s+1\s+.*5\.1\.10/,
    );
    expect(row('✓  invalid message')).toMatch(/dead-lettered: invalid\s+dead-lettered: invalid/);
    expect(row('✓  throttled, then sent')).toMatch(
      /sent after a retry\s+sent after a retry\s+[2-9]/,
    );
    expect(run.stdout).toContain('Every sample ended as expected');
    expect(run.stdout).not.toContain('\x1b['); // not a terminal: no colour
    // The table, not the sender's JSON log lines (session bookkeeping included).
    expect(table.filter((line) => line.startsWith('{'))).toEqual([]);

    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(3);
    const mails = files.map((f) => readFileSync(join(outbox, f), 'utf8'));
    expect(mails.some((m) => m.includes('Subject: Your order #1042 has shipped'))).toBe(true);
    expect(mails.some((m) => /filename="?daily-sales\.csv/.test(m))).toBe(true);
    expect(mails.some((m) => m.includes('Subject: Sent on the second try'))).toBe(true);
  }, 60_000);
});
