/**
 * What the two CDK app tests share. With only aws-cdk-lib, constructs and this package installed,
 * `cdk synth` runs offline and bundles nothing: no esbuild, no Docker, no lock file of ours; the
 * function's code is the bundle the package ships.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { bundlerTraps, consumerEnv, expectSuccess, recordFigure, run } from './package-fixture.ts';

export const CDK_CLI = 'aws-cdk@2.1148.1';

export const SENDER_PROPS = `{
      sender: 'noreply@contoso.com',
      tenantId: '11111111-2222-3333-4444-555555555555',
      clientId: '66666666-7777-8888-9999-000000000000',
    }`;

/** `cdk synth`, with every way to the network closed and the bundler traps first on PATH. */
export async function synth(project: string, label: string) {
  const traps = bundlerTraps();
  const env = consumerEnv(
    22,
    {
      npm_config_offline: 'true',
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    },
    [traps.dir],
  );
  const result = expectSuccess(
    await run('npx', ['cdk', 'synth', '--quiet'], { cwd: project, env }),
    `cdk synth (${label})`,
  );
  recordFigure(`cdk synth, ${label}`, `${result.seconds.toFixed(1)} s`);
  expect(existsSync(traps.calls) ? readFileSync(traps.calls, 'utf8') : '').toBe('');
  return result;
}

/** The synthesized sender function, and the code CDK staged for it. */
function senderFunction(project: string, stackName: string) {
  const out = join(project, 'cdk.out');
  const template = JSON.parse(readFileSync(join(out, `${stackName}.template.json`), 'utf8'));
  const functions = Object.values<{ Type: string; Properties: Record<string, unknown> }>(
    template.Resources,
  ).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler');
  const sender = functions.find((f) =>
    String(f.Properties.Description).includes('Sends queued mail'),
  );
  const assets = readdirSync(out).filter((name) => name.startsWith('asset.'));
  const staged = assets
    .map((asset) => join(out, asset, 'index.mjs'))
    .filter((file) => existsSync(file));
  return { sender, staged };
}

/** The bundle as the tarball has it (installed into the app). */
function shippedBundle(project: string): Buffer {
  return readFileSync(join(project, 'node_modules/o365-mail-queue/dist/lambda/sender/index.mjs'));
}

/** Packages only the sender or the repository's own checks need, which no app has to install. */
export const NOT_NEEDED = ['cdk-nag', '@aws-lambda-powertools', 'nodemailer', '@azure'];

export function expectPrebuiltSender(project: string, stackName: string, notInstalled: string[]) {
  const { sender, staged } = senderFunction(project, stackName);
  expect(sender?.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
  // Staged as shipped, byte for byte: nothing was bundled at synth.
  expect(staged).toHaveLength(1);
  expect(readFileSync(staged[0] ?? '').equals(shippedBundle(project))).toBe(true);
  for (const name of notInstalled) {
    expect(existsSync(join(project, 'node_modules', name)), name).toBe(false);
  }
}
