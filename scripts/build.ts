/**
 * `npm run build` (also `prepack`): writes dist/, the published package, from the TypeScript sources.
 * - dist/lib, dist/infra: tsc (tsconfig.build.json), the producer, the contract and the construct
 *   as ES modules with `.d.ts` and declaration maps. The sources those maps point at are copied to
 *   dist/src, so "go to definition" in an editor lands in the TypeScript.
 * - dist/lambda/sender: the sender function, bundled and minified with exactly the settings the
 *   stack and the benchmark use (infra/sender-bundling.ts); the construct deploys it as it is.
 * - dist/bin: the `o365-mail` command line, bundled with everything it needs (commander, MSAL,
 *   nodemailer, the AWS SDK clients), so none of those is a dependency of the package.
 * - dist/mail-message.schema.json: the contract for producers in other languages.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import {
  BUNDLE_ALIASES,
  esbuildOptions,
  functionEntries,
  lambdaBundling,
} from '../infra/sender-bundling.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

/** The command line: Node 20.19+ runs it; code it loads lazily stays in chunks until needed. */
export function cliBuildOptions(outdir: string): BuildOptions {
  return {
    entryPoints: { 'o365-mail': join(root, 'lib/cli/bin.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    target: 'node20.19',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    alias: { ...BUNDLE_ALIASES },
    legalComments: 'external',
    // The same `require` for CommonJS dependencies as the sender bundle has (sender-bundling.ts).
    banner: { js: `#!/usr/bin/env node\n${lambdaBundling.banner ?? ''}` },
    absWorkingDir: root,
    logLevel: 'warning',
  };
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Copies what the declaration maps point at into dist/src and points the maps there. */
function shipMappedSources(): void {
  for (const map of files(dist)) {
    if (!map.endsWith('.d.ts.map')) continue;
    const parsed = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
    parsed.sources = parsed.sources.map((source) => {
      const original = resolve(dirname(map), source);
      const shipped = join(dist, 'src', relative(root, original));
      mkdirSync(dirname(shipped), { recursive: true });
      copyFileSync(original, shipped);
      return relative(dirname(map), shipped);
    });
    writeFileSync(map, JSON.stringify(parsed));
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  rmSync(dist, { recursive: true, force: true });
  run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
  ]);
  shipMappedSources();
  await build({
    ...esbuildOptions(functionEntries.sender, join(dist, 'lambda/sender/index.mjs')),
    logLevel: 'warning',
  });
  await build(cliBuildOptions(join(dist, 'bin')));
  copyFileSync(
    join(root, 'lib/message/mail-message.schema.json'),
    join(dist, 'mail-message.schema.json'),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`dist/ built in ${seconds} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
