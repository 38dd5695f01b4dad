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
 * What the "plain" bundle imports whole: every runtime dependency the sender path touches.
 * Deliberately fixed, so the baseline does not shrink when the sender gets leaner.
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
    ...optionsFromEsbuildArgs(bundling.esbuildArgs),
    logLevel: 'warning',
  };
}

/**
 * `esbuildArgs` as CDK renders them (`--alias: ['a=./b']` → `--alias:a=./b`,
 * `--legal-comments: 'external'` → `--legal-comments=external`), as esbuild's options. Any other flag
 * is refused: the bench would otherwise time a bundle the stack does not build.
 */
export function optionsFromEsbuildArgs(
  args: BundlingOptions['esbuildArgs'],
): Pick<BuildOptions, 'alias' | 'legalComments'> {
  if (!args) return {};
  const alias: Record<string, string> = {};
  const options: Pick<BuildOptions, 'alias' | 'legalComments'> = {};
  for (const [flag, value] of Object.entries(args)) {
    if (flag === '--legal-comments' && typeof value === 'string') {
      options.legalComments = value as BuildOptions['legalComments'];
      continue;
    }
    if (flag !== '--alias' || typeof value === 'boolean') {
      throw new Error(`cold-start bench: esbuildArgs ${flag} is not translated; add it here`);
    }
    for (const entry of [value].flat()) {
      const at = entry.indexOf('=');
      if (at <= 0) throw new Error(`cold-start bench: --alias:${entry} is not name=path`);
      alias[entry.slice(0, at)] = entry.slice(at + 1);
    }
  }
  if (Object.keys(alias).length > 0) options.alias = alias;
  return options;
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

// Runs in a fresh process: wall and CPU time from just before the dynamic import to its settlement.
const INIT_RUNNER = `const cpu = process.cpuUsage();
const t = performance.now();
await import(process.argv[1]);
const wall = performance.now() - t;
const used = process.cpuUsage(cpu);
process.stdout.write(wall + ' ' + (used.user + used.system) / 1000);
process.exit(0);`;

/** One module initialisation of `file` in a fresh `node` process: wall and CPU ms. */
export async function timeInitOnce(file: string, env: NodeJS.ProcessEnv) {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', INIT_RUNNER, pathToFileURL(file).href],
    { env, cwd: OUT_DIR, timeout: 60_000 },
  );
  const [wallMs, cpuMs] = (stdout.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  if (!Number.isFinite(wallMs) || !Number.isFinite(cpuMs)) {
    throw new Error(`init runner printed no time for ${file}: ${stdout}`);
  }
  return { wallMs: wallMs!, cpuMs: cpuMs! };
}

interface Candidate {
  name: string;
  description: string;
  built: Built;
}

/**
 * Times every candidate `samples` times, interleaved (one of each, then again), so a burst of
 * load on a shared machine does not land on one bundle only.
 */
async function measureAll(
  candidates: Candidate[],
  samples: number,
  env: NodeJS.ProcessEnv,
): Promise<BundleResult[]> {
  const wall = candidates.map((): number[] => []);
  const cpu = candidates.map((): number[] => []);
  for (let i = 0; i < samples; i += 1) {
    for (const [index, candidate] of candidates.entries()) {
      const once = await timeInitOnce(candidate.built.file, env);
      wall[index]!.push(once.wallMs);
      cpu[index]!.push(once.cpuMs);
    }
  }
  return candidates.map((candidate, index) => ({
    name: candidate.name,
    description: candidate.description,
    bytes: candidate.built.bytes,
    initSamplesMs: wall[index]!,
    initMedianMs: median(wall[index]!),
    initCpuMedianMs: median(cpu[index]!),
    topContributors: topContributors(candidate.built.metafile),
  }));
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

  // What the sender leaves to its first guard call (lib/guards/dynamodb-sdk.ts): timed the same
  // way, so the report can say what a deployment with the ledger or the rate limiter pays then.
  const firstUseEntry = join(OUT_DIR, 'first-use.mjs');
  writeFileSync(firstUseEntry, "await import('@aws-sdk/client-dynamodb');\n");
  const firstUse: Built = {
    file: firstUseEntry,
    bytes: 0,
    metafile: { inputs: {}, outputs: {} },
  };

  const sdkWord = (bundled: boolean) =>
    bundled ? '@aws-sdk bundled' : '@aws-sdk from the runtime';
  const [senderResult, alternativeResult, plainResult, firstUseResult] = await measureAll(
    [
      {
        name: 'sender (as the stack builds it)',
        description: `infra/sender-bundling.ts options: ${asStack.format}, ${asStack.minify ? 'minified' : 'not minified'}, ${sdkWord(sdkBundled)}`,
        built: sender,
      },
      {
        name: `sender, ${sdkWord(!sdkBundled)}`,
        description: `the same options with ${sdkWord(!sdkBundled)} instead`,
        built: alternative,
      },
      {
        name: 'plain esbuild, deps imported whole',
        description: `esbuild --bundle --platform=node --format=cjs of "export * as" ${PLAIN_DEPENDENCIES.join(', ')}`,
        built: plain,
      },
      {
        name: 'DynamoDB client, on first use',
        description:
          'import of @aws-sdk/client-dynamodb, which the sender makes on its first ledger, rate-limit, lease or breaker call (not at initialisation)',
        built: firstUse,
      },
    ],
    samples,
    senderEnv,
  );
  return {
    sender: senderResult!,
    senderAlternative: alternativeResult,
    plain: plainResult!,
    firstUse: firstUseResult,
  };
}
