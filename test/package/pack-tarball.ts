/**
 * globalSetup of the packaging test: `npm pack` once (its `prepack` is the build), in the main
 * process before any worker starts; the workers find the tarball and the work folder through the
 * environment. At the end, the figures the tests recorded are printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NODE_MAJORS,
  nodeBinary,
  prepareNodeBinaries,
  REPO_ROOT,
  TARBALL_ENV,
  WORK_DIR_ENV,
} from './package-fixture.ts';

export function setup(): () => Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'o365-package-'));
  process.env[WORK_DIR_ENV] = work;
  prepareNodeBinaries();
  console.log(`consumers run on ${NODE_MAJORS.map((major) => nodeBinary(major)).join(', ')}`);
  const started = performance.now();
  if (!process.env[TARBALL_ENV]) {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (pack.status !== 0) throw new Error(`npm pack failed (exit ${pack.status})`);
    // prepack's own output comes first; npm's JSON report is the last thing printed.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.lastIndexOf('\n[') + 1)) as [
      { filename: string; size: number; unpackedSize: number; entryCount: number },
    ];
    const [{ filename, size, unpackedSize, entryCount }] = report;
    process.env[TARBALL_ENV] = join(work, filename);
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    console.log(
      `packed ${filename}: ${kB(size)} (${kB(unpackedSize)} unpacked, ${entryCount} files) in ${seconds} s, build included`,
    );
  }
  return async () => {
    const figures = join(work, 'figures');
    const lines = safeReaddir(figures).map((f) => readFileSync(join(figures, f), 'utf8').trim());
    if (lines.length > 0) console.log(`\npackaging figures\n  ${lines.sort().join('\n  ')}`);
    // Hundreds of MB of node_modules: removed without blocking, so the workers can end meanwhile.
    if (!process.env.O365_PACKAGE_KEEP) await rm(work, { recursive: true, force: true });
  };
}

function kB(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function safeReaddir(dir: string): string[] {
  try {
    return statSync(dir).isDirectory() ? readdirSync(dir) : [];
  } catch {
    return [];
  }
}
