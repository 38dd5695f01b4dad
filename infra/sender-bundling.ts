import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The repository root: `NodejsFunction` resolves entries, the lock file and esbuild from here. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The lock file that pins what gets bundled (also part of the asset's identity). */
export const depsLockFilePath = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/** Lambda entry points this app bundles. */
export const functionEntries = {
  sender: fileURLToPath(new URL('../functions/sender.ts', import.meta.url)),
  dailyReport: fileURLToPath(new URL('../functions/daily-report.ts', import.meta.url)),
} as const;

/**
 * Packages the Lambda runtime provides, left out of the bundle: all of AWS SDK v3 (every nodejs
 * runtime since 18.x ships it). A dependency the runtime gives for free is bundled only when
 * pinning it is worth it; measured with `npm run bench` (2026-11-22), it is not worth enough:
 * - bundled, esbuild keeps a tree-shaken, minified copy of the clients the sender imports, and
 *   module initialisation is about 67 ms; from the runtime Node loads those clients' packages from
 *   disk, and it is about 105 ms (the plain bundle of the same dependencies: about 245 ms). Against
 *   the SMTP connect and token request that follow every cold start (hundreds of ms to Office 365),
 *   the difference is small, and cold starts are rare for a warm queue consumer;
 * - the bundle is about 775 KB smaller (1355 KB with the SDK, 580 KB without);
 * - the runtime's SDK receives AWS's fixes without a redeploy. The price: the SDK version is the
 *   runtime's, not the one the tests ran against. The sender uses stable operations only
 *   (SQS SendMessage and ChangeMessageVisibilityBatch, DynamoDB item operations, Secrets Manager
 *   GetSecretValue, S3 GetObject). To pin it instead, set `bundleAwsSDK: true` and
 *   `externalModules: []` in {@link lambdaBundling}.
 * What a cold start does not need is also not loaded at start: the SQS client (failure paths only,
 * lib/delivery/lazy-sqs-client.ts) and the S3 client (attachments stored in S3 only) come through `import()`.
 */
export const RUNTIME_MODULES = ['@aws-sdk/*'] as const;

/**
 * nodemailer's CommonJS build of each `nodemailer/lib/<name>`, wherever nodemailer is installed; none
 * where it is not (the construct from the published package deploys a prebuilt bundle and builds
 * nothing).
 */
function nodemailerCommonJs(names: string[]): Record<string, string> {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('nodemailer/package.json'));
  } catch {
    return {};
  }
  return Object.fromEntries(
    names.map((name) => [
      `nodemailer/lib/${name}/index.js`,
      join(root, 'dist', 'cjs', name, 'index.js'),
    ]),
  );
}

/**
 * Packages replaced in the bundle (esbuild `alias`), as paths relative to {@link projectRoot} (the
 * directory `NodejsFunction` runs esbuild in; esbuild resolves an alias from its working directory)
 * or absolute.
 * - `jsonwebtoken` → `lib/bundle/jsonwebtoken-sign.ts`: MSAL node uses the package for one call,
 *   signing the client assertion of a certificate credential; the stand-in does that call with
 *   `node:crypto` and spares the bundle jsonwebtoken, jws, jwa, semver, ms and lodash.* (57 KB).
 *   Tests and local runs keep the real package; test/unit/jsonwebtoken-sign.test.ts compares both.
 * - the nodemailer modules the sender imports → nodemailer's CommonJS build of the same modules
 *   (the package ships both from one source). Its ES build imports `node:http` and `node:https`
 *   (for fetching content from URLs, which the sender never does) as ES modules, and Node builds an
 *   ES module's view of `node:http` by reading every export, one of which loads Node's whole fetch
 *   implementation (undici): measured with `npm run bench`, about a sixth of the sender's
 *   initialisation. The CommonJS build `require`s them, which reads nothing.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  jsonwebtoken: './lib/bundle/jsonwebtoken-sign.ts',
  ...nodemailerCommonJs(['mail-composer', 'mime-funcs', 'smtp-connection']),
};

/**
 * esbuild options for every function of this app. Exported so `scripts/bench.ts` measures the
 * bundle exactly as the stack builds it.
 *
 * - ESM output (`.mjs`): top-level await and the same module semantics as local runs.
 * - The banner gives the ESM bundle a `require`: nodemailer and MSAL are CommonJS and load Node
 *   built-ins with `require('net')`, which esbuild cannot hoist into imports; without the shim
 *   the function dies at cold start with "Dynamic require of "net" is not supported".
 * - `@aws-sdk/*` comes from the Lambda runtime ({@link RUNTIME_MODULES} says why).
 * - License comments go to `index.mjs.LEGAL.txt` next to the bundle, not inside it: they are kept
 *   (the licenses ask for that) but not parsed at every cold start.
 * - {@link BUNDLE_ALIASES} replace packages a stand-in does with less code.
 * - `forceDockerBundling: false`: these machines (and most CI) have no Docker; the `esbuild`
 *   devDependency is used.
 */
export const lambdaBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  // Source text is in the repository; leaving it out of the map keeps the bundle small.
  sourcesContent: false,
  bundleAwsSDK: false,
  externalModules: [...RUNTIME_MODULES],
  // CDK renders each entry as `--alias:<package>=<path>` (toCliArgsArray in bundling.js).
  esbuildArgs: {
    '--alias': Object.entries(BUNDLE_ALIASES).map(([name, path]) => `${name}=${path}`),
    '--legal-comments': 'external',
  },
  banner:
    "import { createRequire as __o365CreateRequire } from 'node:module'; const require = __o365CreateRequire(import.meta.url);",
  forceDockerBundling: false,
};

/**
 * The same build as esbuild's JS API options, for tools that bundle without CDK (the benchmark):
 * CDK turns {@link lambdaBundling} into exactly these command-line flags.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: lambdaBundling.target,
    format: 'esm',
    mainFields: lambdaBundling.mainFields,
    minify: lambdaBundling.minify,
    sourcemap: lambdaBundling.sourceMap,
    sourcesContent: lambdaBundling.sourcesContent,
    external: lambdaBundling.externalModules,
    alias: { ...BUNDLE_ALIASES },
    legalComments: 'external',
    banner: { js: lambdaBundling.banner ?? '' },
    absWorkingDir: projectRoot,
  };
}
