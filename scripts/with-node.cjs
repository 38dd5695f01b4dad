#!/usr/bin/env node
/**
 * `node scripts/with-node.cjs <command> [args...]`: runs <command> with Node.js 22.18 or newer first
 * on PATH. This repository runs its TypeScript with Node's type stripping and its SQS emulator needs
 * `node:sqlite`, both Node 22; the package itself runs on Node 20.19+. When the Node running this is
 * older, a Node 22 from the npm registry (the `node` package, the same one `.ci/run` uses) is used
 * from a cache folder, and fetched into it the first time. The npm scripts start with this, so
 * `npm install && npm run demo` and `npm test` work as written on a machine whose Node is 20.
 *
 * Plain CommonJS on purpose: it must run on whatever Node the machine has.
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { homedir } = require('node:os');
const { delimiter, dirname, join } = require('node:path');

/** The oldest Node the repository's own scripts run on. */
const NEEDED = { major: 22, minor: 18 };

/** `[major, minor]` of a `vX.Y.Z` string. */
function parseVersion(text) {
  const match = /^v?(\d+)\.(\d+)\./.exec(String(text).trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function atLeast(version, major, minor) {
  return (
    version !== undefined && (version[0] > major || (version[0] === major && version[1] >= minor))
  );
}

/** Where Node `major` from the npm registry is kept: shared by every clone on this machine. */
function cacheDir(major) {
  if (major === 22 && process.env.O365_NODE_CACHE) return process.env.O365_NODE_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'o365-mail-queue', `node${major}`);
}

function versionOf(bin) {
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? parseVersion(result.stdout) : undefined;
}

/** npm as the running npm script was started with, else the one on PATH. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /\.c?js$/.test(cli) && existsSync(cli)) return [process.execPath, [cli]];
  return [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
}

/**
 * Path of a Node binary of release line `major` (at least `major.minor`) from the cache folder,
 * installing the `node@<major>` package there first when it is missing; `why` opens the notice
 * printed before a fetch. Throws when the fetch fails.
 */
function ensureCachedNode(major, minor = 0, why = '') {
  const dir = cacheDir(major);
  const bin = join(
    dir,
    'node_modules',
    'node',
    'bin',
    process.platform === 'win32' ? 'node.exe' : 'node',
  );
  const cached = existsSync(bin) ? versionOf(bin) : undefined;
  if (cached && cached[0] === major && atLeast(cached, major, minor)) return bin;
  process.stderr.write(
    `${why}Fetching Node ${major} from the npm registry into ${dir} (once)...\n`,
  );
  const [npm, npmArgs] = npmCommand();
  const install = spawnSync(
    npm,
    [
      ...npmArgs,
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--loglevel=error',
      `node@${major}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' },
  );
  const fetched = existsSync(bin) ? versionOf(bin) : undefined;
  if (install.status !== 0 || !fetched || !atLeast(fetched, major, minor)) {
    throw new Error(
      `could not fetch Node ${major}.${minor}+ into ${dir} (npm install node@${major} failed)`,
    );
  }
  return bin;
}

/** A Node binary that runs this repository's scripts: this one when new enough, else Node 22. */
function repositoryNode() {
  if (atLeast(parseVersion(process.version), NEEDED.major, NEEDED.minor)) return process.execPath;
  const why = `Node ${process.version} is older than the ${NEEDED.major}.${NEEDED.minor} this repository's scripts need. `;
  return ensureCachedNode(NEEDED.major, NEEDED.minor, why);
}

function main(argv) {
  if (argv.length === 0) {
    process.stderr.write('usage: node scripts/with-node.cjs <command> [args...]\n');
    return process.exit(2);
  }
  let node;
  try {
    node = repositoryNode();
  } catch (error) {
    process.stderr.write(
      `\n${error.message}.\nInstall Node.js ${NEEDED.major}.${NEEDED.minor} or newer (for example \`nvm install 22\`) and run the command again.\n`,
    );
    return process.exit(1);
  }
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const [command, ...args] = argv;
  const child = spawn(command, args, {
    stdio: 'inherit',
    env,
    shell: process.platform === 'win32',
  });
  // Ctrl-C reaches the child from the terminal itself; other signals sent to this process are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`${command}: ${error.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

exports.ensureCachedNode = ensureCachedNode;
exports.parseVersion = parseVersion;

if (require.main === module) main(process.argv.slice(2));
