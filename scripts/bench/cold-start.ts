/**
 * Cold start: builds the sender bundle exactly as the stack does (the CDK `BundlingOptions` in
 * infra/sender-bundling.ts, translated flag for flag the way `NodejsFunction` hands them to the
 * esbuild CLI) and a plain esbuild bundle of the same dependencies imported whole, then times
 * module initialisation of each in fresh `node` processes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { type BundleResult, type ColdStartResult, median } from './results.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * Inside node_modules/.cache so that a bundle with external packages resolves them from the
 * project's node_modules, as Lambda resolves `@aws-sdk/*` from the runtime's.
 */
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'o365-mail-bench');

/**
 * What the "plain" bundle imports whole: every runtime dependency the sender path touches
 * (issue 7). Deliberately fixed, so the baseline does not shrink when the sender gets leaner.
 */
export const PLAIN_DEPENDENCIES = [
  'zod',
  'nodemailer',
  '@azure/msal-node',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/metrics',
  '@aws-lambda-powertools/batch',
  '@aws-lambda-powertools/idempotency',
  '@aws-lambda-powertools/parameters',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
] as const;

/** The CDK `NodejsFunction` → esbuild translation (aws-cdk-lib/aws-lambda-nodejs/lib/bundling.js). */
export function esbuildOptionsFromBundling(
  bundling: BundlingOptions,
  overrides: { bundleAwsSdk?: boolean } = {},
): BuildOptions {
  const bundleAwsSdk = overrides.bundleAwsSdk ?? bundling.bundleAwsSDK ?? false;
  const externals =
    overrides.bundleAwsSdk === undefined
      ? (bundling.externalModules ?? (bundleAwsSdk ? [] : ['@aws-sdk/*']))
      : bundleAwsSdk
        ? (bundling.externalModules ?? []).filter((name) => !name.startsWith('@aws-sdk/'))
        : [...new Set([...(bundling.externalModules ?? []), '@aws-sdk/*'])];
  return {
    bundle: true,
    platform: 'node',
    target: bundling.target ?? 'node22',
    format: bundling.format === 'esm' ? 'esm' : 'cjs',
    minify: bundling.minify ?? false,
    // The map goes to a separate file; only the code is counted and loaded.
    sourcemap: bundling.sourceMap ? 'linked' : false,
    sourcesContent: bundling.sourcesContent ?? true,
    external: [...externals, ...(bundling.nodeModules ?? [])],
    loader: bundling.loader as BuildOptions['loader'],
    define: bundling.define,
    keepNames: bundling.keepNames,
    banner: bundling.banner ? { js: bundling.banner } : undefined,
    footer: bundling.footer ? { js: bundling.footer } : undefined,
    mainFields: bundling.mainFields,
    inject: bundling.inject,
    logLevel: 'warning',
  };
}

interface Built {
  file: string;
  bytes: number;
  metafile: Metafile;
}

async function bundle(name: string, options: BuildOptions): Promise<Built> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${name}.${options.format === 'esm' ? 'mjs' : 'cjs'}`);
  const result = await build({ ...options, outfile: file, metafile: true, absWorkingDir: ROOT });
  return { file, bytes: statSync(file).size, metafile: result.metafile };
}

/** Bytes in the output per package (or "this project"), biggest first. */
export function topContributors(metafile: Metafile, limit = 8): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input);
      const name = match?.[1] ?? 'this project';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

// Runs in a fresh process: time from just before the dynamic import to its settlement.
const INIT_RUNNER = `const t = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t));
process.exit(0);`;

/** Median module initialisation of `file` over `samples` fresh `node` processes. */
export async function timeInit(file: string, samples: number, env: NodeJS.ProcessEnv) {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', INIT_RUNNER, pathToFileURL(file).href],
      { env, cwd: OUT_DIR, timeout: 60_000 },
    );
    const ms = Number(stdout.trim().split('\n').at(-1));
    if (!Number.isFinite(ms)) throw new Error(`init runner printed no time for ${file}: ${stdout}`);
    times.push(ms);
  }
  return times;
}

async function measure(
  name: string,
  description: string,
  built: Built,
  samples: number,
  env: NodeJS.ProcessEnv,
): Promise<BundleResult> {
  const initSamplesMs = await timeInit(built.file, samples, env);
  return {
    name,
    description,
    bytes: built.bytes,
    initSamplesMs,
    initMedianMs: median(initSamplesMs),
    topContributors: topContributors(built.metafile),
  };
}

/**
 * Builds and times the three bundles. `senderEnv` is the configuration the sender's module scope
 * reads at cold start (it must not need the network to initialise).
 */
export async function measureColdStart(
  samples: number,
  senderEnv: NodeJS.ProcessEnv,
): Promise<ColdStartResult> {
  const { lambdaBundling, functionEntries } = await import('../../infra/sender-bundling.ts');
  const entry = functionEntries.sender;
  const asStack = esbuildOptionsFromBundling(lambdaBundling);
  const sdkBundled = lambdaBundling.bundleAwsSDK === true;
  const other = esbuildOptionsFromBundling(lambdaBundling, { bundleAwsSdk: !sdkBundled });
  const sender = await bundle('sender', { ...asStack, entryPoints: [entry] });
  const alternative = await bundle('sender-alt', { ...other, entryPoints: [entry] });

  const plainEntry = join(OUT_DIR, 'plain-entry.mjs');
  writeFileSync(
    plainEntry,
    PLAIN_DEPENDENCIES.map((name, i) => `export * as dep${i} from '${name}';`).join('\n'),
  );
  const plain = await bundle('plain', {
    entryPoints: [plainEntry],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    logLevel: 'warning',
  });

  const sdkWord = (bundled: boolean) =>
    bundled ? '@aws-sdk bundled' : '@aws-sdk from the runtime';
  return {
    sender: await measure(
      'sender (as the stack builds it)',
      `infra/sender-bundling.ts options: ${asStack.format}, ${asStack.minify ? 'minified' : 'not minified'}, ${sdkWord(sdkBundled)}`,
      sender,
      samples,
      senderEnv,
    ),
    senderAlternative: await measure(
      `sender, ${sdkWord(!sdkBundled)}`,
      `the same options with ${sdkWord(!sdkBundled)} instead`,
      alternative,
      samples,
      senderEnv,
    ),
    plain: await measure(
      'plain esbuild, deps imported whole',
      `esbuild --bundle --platform=node --format=cjs of "export * as" ${PLAIN_DEPENDENCIES.join(', ')}`,
      plain,
      samples,
      senderEnv,
    ),
  };
}
