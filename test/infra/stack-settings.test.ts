import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EXAMPLE_CONFIG_FILE,
  loadStackSettings,
  parseStackSettings,
  StackSettingsError,
} from '../../infra/stack-settings.ts';

/** A context reader over a plain object, as `app.node.tryGetContext` reads `-c key=value`. */
const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

function configFile(settings: unknown): { dir: string; name: string } {
  const dir = mkdtempSync(join(tmpdir(), 'o365-settings-'));
  writeFileSync(join(dir, 'mail.config.json'), JSON.stringify(settings));
  return { dir, name: 'mail.config.json' };
}

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof StackSettingsError) return error.problems;
    throw error;
  }
  throw new Error('expected a StackSettingsError');
}

describe('deployment settings', () => {
  it('falls back to the committed example config when nothing is given, and says so', () => {
    const loaded = loadStackSettings(context({}));
    expect(loaded.source).toBe('example');
    expect(loaded.configFile).toBe(EXAMPLE_CONFIG_FILE);
    expect(loaded.settings.sender).toMatch(/@contoso\.example$/);
  });

  it('reads -c values as strings: lists split on commas, numbers and booleans coerced', () => {
    const { settings, source } = loadStackSettings(
      context({
        sender: 'mail@contoso.com',
        allowedFrom: 'mail@contoso.com, @reports.contoso.com',
        maxConcurrency: '3',
        fifo: 'true',
        dailyReport: 'false',
        attachmentBuckets: 'reports-out,invoices-out',
      }),
    );
    expect(source).toBe('context');
    expect(settings).toMatchObject({
      sender: 'mail@contoso.com',
      allowedFrom: ['mail@contoso.com', '@reports.contoso.com'],
      maxConcurrency: 3,
      fifo: true,
      dailyReport: false,
      attachmentBuckets: ['reports-out', 'invoices-out'],
      smtpAuth: 'oauth2',
      stackName: 'O365MailQueue',
    });
  });

  it('reads a config file relative to the working directory; -c values override it', () => {
    const { dir, name } = configFile({
      sender: 'file@contoso.com',
      batchSize: 5,
      alarmEmail: 'ops@contoso.com',
    });
    const { settings, source } = loadStackSettings(
      context({ configFile: name, batchSize: '2' }),
      dir,
    );
    expect(source).toBe('config-file');
    expect(settings).toMatchObject({
      sender: 'file@contoso.com',
      batchSize: 2,
      alarmEmail: 'ops@contoso.com',
    });
  });

  it('names each bad setting, what was given and how to fix it, all at once', () => {
    const problems = problemsOf(() =>
      parseStackSettings({
        sender: 'mail',
        maxConcurrency: '1',
        fifo: 'maybe',
        batchSize: '20',
        smtpKeepAliveSeconds: '7200',
      }),
    );
    expect(problems).toHaveLength(5);
    expect(problems).toContainEqual(
      expect.stringMatching(/^smtpKeepAliveSeconds: .*<=3600.*"7200"/),
    );
    expect(problems).toContainEqual(expect.stringMatching(/^sender: .*"mail".*Fix: -c sender=/));
    expect(problems).toContainEqual(expect.stringMatching(/^maxConcurrency: .*>=2.*"1"/));
    expect(problems).toContainEqual(expect.stringMatching(/^fifo: must be true or false/));
    expect(problems).toContainEqual(expect.stringMatching(/^batchSize: .*<=10/));
  });

  it('requires the sender when settings are given without one', () => {
    const { dir, name } = configFile({ tenantId: 'contoso.onmicrosoft.com' });
    expect(problemsOf(() => loadStackSettings(context({ configFile: name }), dir))).toEqual([
      expect.stringMatching(/^sender: .*it is missing.*Fix: -c sender=/),
    ]);
  });

  it('requires report recipients when the daily report is on', () => {
    expect(
      problemsOf(() => parseStackSettings({ sender: 'mail@contoso.com', dailyReport: 'true' })),
    ).toEqual([expect.stringMatching(/^reportTo: is required when dailyReport is on/)]);
  });

  it('catches a typo in a config file instead of ignoring the setting', () => {
    const { dir, name } = configFile({ sender: 'mail@contoso.com', maxConcurency: 4 });
    expect(problemsOf(() => loadStackSettings(context({ configFile: name }), dir))).toEqual([
      expect.stringMatching(/unknown setting 'maxConcurency': known settings are .*maxConcurrency/),
    ]);
  });

  it('says when the config file is missing or not JSON', () => {
    expect(
      problemsOf(() => loadStackSettings(context({ configFile: 'nope.json' }), tmpdir())),
    ).toEqual([expect.stringMatching(/^configFile: .*nope\.json does not exist/)]);
    const dir = mkdtempSync(join(tmpdir(), 'o365-settings-'));
    writeFileSync(join(dir, 'bad.json'), '{ sender: ');
    expect(problemsOf(() => loadStackSettings(context({ configFile: 'bad.json' }), dir))).toEqual([
      expect.stringMatching(/^configFile: .*bad\.json is not a JSON object of settings/),
    ]);
  });
});
