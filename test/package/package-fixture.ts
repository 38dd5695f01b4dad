/**
 * Fresh projects in a temporary folder that install the packed tarball from the npm registry and
 * nothing from this repository's node_modules, and the Node versions they run on.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProcessRun, runProcess } from '../run-process.ts';

const require = createRequire(import.meta.url);
const { ensureCachedNode, parseVersion } = require('../../scripts/with-node.cjs') as {
  ensureCachedNode(major: number, minor?: number): string;
  parseVersion(text: string): [number, number] | undefined;
};

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Set by pack-tarball.ts (globalSetup). */
export const TARBALL_ENV = 'O365_PACKAGE_TARBALL';
export const WORK_DIR_ENV = 'O365_PACKAGE_WORK_DIR';

export function tarball(): string {
  const path = process.env[TARBALL_ENV];
  if (!path) throw new Error(`${TARBALL_ENV} is not set: run through npm run test:package`);
  return path;
}

function workDir(): string {
  const dir = process.env[WORK_DIR_ENV];
  if (!dir) throw new Error(`${WORK_DIR_ENV} is not set: run through npm run test:package`);
  return dir;
}

export type NodeMajor = 20 | 22 | 24;

/** The machine's own Node when it is 20.19+ on the 20 line (the case this test is for), else one fetched. */
function systemNode20(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.startsWith(REPO_ROOT) || dir.includes(join('o365-mail-queue', 'node')))
      continue;
    const bin = join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (!existsSync(bin)) continue;
    const run = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    const version = parseVersion(run.stdout);
    if (version?.[0] === 20 && version[1] >= 19) return bin;
  }
  return ensureCachedNode(20, 19);
}

export const NODE_MAJORS: readonly NodeMajor[] = [20, 22, 24];
const nodeEnv = (major: NodeMajor) => `O365_PACKAGE_NODE_${major}`;

/**
 * Finds (fetching when needed) a Node binary of each line: 20 the system's, 22 and 24 from the npm
 * registry (cached), and exports them to the workers. In globalSetup: a fetch blocks.
 */
export function prepareNodeBinaries(): void {
  const current = parseVersion(process.version);
  for (const major of NODE_MAJORS) {
    process.env[nodeEnv(major)] =
      major === 20
        ? systemNode20()
        : current?.[0] === major
          ? process.execPath
          : ensureCachedNode(major, major === 22 ? 12 : 0);
  }
}

/** The Node binary of the given line (see {@link prepareNodeBinaries}). */
export function nodeBinary(major: NodeMajor): string {
  const bin = process.env[nodeEnv(major)];
  if (!bin) throw new Error(`${nodeEnv(major)} is not set: run through npm run test:package`);
  return bin;
}

/**
 * Fake `docker` and `esbuild` first on PATH: each writes to `calls` and fails, so a synth that
 * tried to bundle (or to bundle in a container) leaves a trace instead of quietly finding one.
 */
export function bundlerTraps(): { dir: string; calls: string } {
  const dir = join(workDir(), 'traps');
  const calls = join(dir, 'calls.log');
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    for (const tool of ['docker', 'esbuild']) {
      const path = join(dir, tool);
      writeFileSync(path, `#!/bin/sh\necho "${tool} $*" >> "${calls}"\nexit 1\n`);
      chmodSync(path, 0o755);
    }
  }
  return { dir, calls };
}

/**
 * The environment of a user's shell with `node` = `major` first on PATH: nothing from this
 * repository (its node_modules/.bin, the Node it fetched for itself), no npm script variables.
 */
export function consumerEnv(
  major: NodeMajor,
  extra: Record<string, string | undefined> = {},
  pathFirst: string[] = [],
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|NODE_PATH$|VITEST|TEST$|INIT_CWD$|MAIL_|SMTP_|O365_|AWS_)/.test(key))
      continue;
    env[key] = value;
  }
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(
      (dir) => dir && !dir.startsWith(REPO_ROOT) && !dir.includes(join('o365-mail-queue', 'node')),
    );
  env.PATH = [...pathFirst, dirname(nodeBinary(major)), ...path].join(delimiter);
  env.NO_COLOR = '1';
  env.CI = '1';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export { type ProcessRun as Run, runProcess as run } from '../run-process.ts';

/** Fails with everything the command printed, which is what one needs to see when it breaks. */
export function expectSuccess(result: ProcessRun, what: string): ProcessRun {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

/** A new project folder, with a `package.json` unless `packageJson` is undefined. */
export function freshProject(name: string, packageJson?: Record<string, unknown>): string {
  const dir = join(workDir(), name);
  mkdirSync(dir, { recursive: true });
  if (packageJson) {
    const text = JSON.stringify({ name, private: true, ...packageJson }, null, 2);
    writeFileSync(join(dir, 'package.json'), `${text}\n`);
  }
  return dir;
}

/** `npm install <specs>` in `dir` from the registry and the machine's npm cache. */
export async function npmInstall(
  dir: string,
  specs: string[],
  env: NodeJS.ProcessEnv,
): Promise<ProcessRun> {
  const flags = ['--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline'];
  return expectSuccess(
    await runProcess('npm', ['install', ...flags, ...specs], { cwd: dir, env }),
    `npm install ${specs.join(' ')} in ${dir}`,
  );
}

/** Disk usage of `dir` in KiB (`du -sk`: blocks, as a user's disk sees them). */
export function diskKiB(dir: string): number {
  const du = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  return Number(du.stdout.split(/\s/)[0]);
}

/** Records a figure for the summary pack-tarball.ts prints at the end. */
export function recordFigure(name: string, value: string): void {
  const dir = join(workDir(), 'figures');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name.replace(/[^\w.-]+/g, '_')}.txt`), `${name}: ${value}\n`);
}
