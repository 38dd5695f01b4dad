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
 * SDK modules taken from the Lambda runtime's own AWS SDK v3 instead of the bundle: every one is
 * reached only through a lazy `import()`, so a cold start never loads it, and each costs bundle
 * bytes (measured with the bench's metafile breakdown: 1117 KB → 815 KB without them).
 * - `@aws-sdk/client-s3`: loaded with `import()` on the first attachment stored in S3; most
 *   batches have none, and GetObject is an API that does not move under us.
 * - the credential providers past the environment one, and the STS/SSO clients they use: Lambda
 *   hands the role's credentials to the function in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
 *   `AWS_SESSION_TOKEN`, which the default chain reads first, so these are never imported there.
 * Should one ever be needed, Node resolves it from the runtime's SDK (every nodejs runtime since
 * 18.x ships SDK v3), so nothing breaks; it only stops being pinned.
 */
export const RUNTIME_SDK_MODULES = [
  '@aws-sdk/client-s3',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
] as const;

/**
 * Packages replaced in the bundle (esbuild `alias`), as paths relative to {@link projectRoot}, the
 * directory `NodejsFunction` runs esbuild in (esbuild resolves an alias from its working directory).
 * - `jsonwebtoken` → `lib/bundle/jsonwebtoken-sign.ts`: MSAL node uses the package for one call,
 *   signing the client assertion of a certificate credential; the stand-in does that call with
 *   `node:crypto` and spares the bundle jsonwebtoken, jws, jwa, semver, ms and lodash.* (58 KB).
 *   Tests and local runs keep the real package; test/unit/jsonwebtoken-sign.test.ts compares both.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  jsonwebtoken: './lib/bundle/jsonwebtoken-sign.ts',
};

/**
 * esbuild options for every function of this app. Exported so `scripts/bench.ts` measures the
 * bundle exactly as the stack builds it.
 *
 * - ESM output (`.mjs`): top-level await and the same module semantics as local runs.
 * - The banner gives the ESM bundle a `require`: nodemailer and MSAL are CommonJS and load Node
 *   built-ins with `require('net')`, which esbuild cannot hoist into imports; without the shim
 *   the function dies at cold start with "Dynamic require of "net" is not supported".
 * - `@aws-sdk/*` is bundled, not taken from the runtime: the function then runs the SDK version
 *   the tests ran against (the runtime's copy changes under us with Lambda updates), and esbuild
 *   keeps only the SQS, DynamoDB and Secrets Manager clients we import, minified, which loads
 *   faster than resolving the runtime's full SDK from disk (the bench, 2026-11-22: module
 *   initialisation 69 ms and 737 KB bundled, 125 ms and 504 KB with `@aws-sdk/*` from the runtime).
 *   Only the lazily loaded parts in {@link RUNTIME_SDK_MODULES} come from the runtime.
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
  bundleAwsSDK: true,
  externalModules: [...RUNTIME_SDK_MODULES],
  // CDK renders each entry as `--alias:<package>=<path>` (toCliArgsArray in bundling.js).
  esbuildArgs: {
    '--alias': Object.entries(BUNDLE_ALIASES).map(([name, path]) => `${name}=${path}`),
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
    banner: { js: lambdaBundling.banner ?? '' },
    absWorkingDir: projectRoot,
  };
}
