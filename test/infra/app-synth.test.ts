import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cdkCli = join(root, 'node_modules/aws-cdk/bin/cdk');

/** This process's environment without any AWS credential, profile or region; no IMDS probing. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  );
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    CDK_DISABLE_VERSION_CHECK: '1',
    ...extra,
  };
}

describe('the CDK app', () => {
  it('`cdk synth` works with no settings, no credentials and no network, nag clean, and warns about the example values', async () => {
    const out = mkdtempSync(join(tmpdir(), 'o365-synth-'));
    const run = spawnSync(process.execPath, [cdkCli, 'synth', '--quiet', '--output', out], {
      cwd: root,
      env: offlineEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toMatch(/using the placeholders in .*example\.config\.json/);
    expect(run.status, run.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(out, 'O365MailQueue.template.json'), 'utf8'));
    const types = Object.values(template.Resources as Record<string, { Type: string }>).map(
      (r) => r.Type,
    );
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(2);
    expect(types).toContain('AWS::Events::Rule');
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([
        'QueueUrl',
        'QueueArn',
        'DeadLetterQueueUrl',
        'AlarmTopicArn',
        'SecretArn',
      ]),
    );
    // Every acknowledged nag finding is in the template with its reason; these are all of them.
    type Resource = {
      Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } };
    };
    const acknowledged = Object.values(template.Resources as Record<string, Resource>).flatMap(
      (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    );
    expect(new Set(acknowledged.map((a) => a.id))).toEqual(
      new Set(['AwsSolutions-SMG4', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-DDB3']),
    );
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
    // The report job's bundle, as deployed, loads as ESM (the sender's: mail-sender.test.ts).
    type Fn = { Type: string; Properties: { Description?: string; Code?: { S3Key?: string } } };
    const report = Object.values(template.Resources as Record<string, Fn>).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.includes('daily'),
    );
    const assetHash = report?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    expect(assetHash).toBeDefined();
    const assetDir = join(out, `asset.${assetHash}`);
    process.env.MAIL_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/mail';
    process.env.REPORT_TO = 'reports@contoso.com';
    const loaded = await import(pathToFileURL(join(assetDir, 'index.mjs')).href);
    expect(typeof loaded.handler).toBe('function');
  }, 120_000); // the whole CLI: two esbuild bundles, cdk-nag and CDK's template check

  it('stops with every bad setting named, and no stack trace', () => {
    const run = spawnSync(process.execPath, [join(root, 'infra/app.ts')], {
      cwd: root,
      env: offlineEnv({
        CDK_CONTEXT_JSON: JSON.stringify({
          sender: 'postmaster',
          batchSize: '25',
          dailyReport: 'yes',
        }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'o365-synth-')),
      }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Invalid deployment settings/);
    expect(run.stderr).toMatch(/- sender: .*"postmaster".*Fix: -c sender=/);
    expect(run.stderr).toMatch(/- batchSize: /);
    expect(run.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('stops with the construct’s own checks named after the settings', () => {
    const run = spawnSync(process.execPath, [join(root, 'infra/app.ts')], {
      cwd: root,
      env: offlineEnv({
        CDK_CONTEXT_JSON: JSON.stringify({ sender: 'mail@contoso.com', clientId: 'my-app' }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'o365-synth-')),
      }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/tenantId is required with smtpAuth oauth2/);
    expect(run.stderr).toMatch(/clientId must be the application \(client\) GUID, got 'my-app'/);
  });
});
