/**
 * What `npm pack` puts in the tarball: the built output, the JSON Schema, README and LICENSE, and
 * nothing else; every entry point it declares is there, and the declaration maps resolve.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshProject, recordFigure, tarball } from './package-fixture.ts';

let root: string;
let entries: string[];

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function size(files: string[]): number {
  return files.reduce((sum, file) => sum + statSync(join(root, file)).size, 0);
}

beforeAll(() => {
  const dir = freshProject('tarball');
  mkdirSync(dir, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', tarball(), '-C', dir], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  root = join(dir, 'package');
  const list = spawnSync('tar', ['-tzf', tarball()], { encoding: 'utf8' });
  entries = list.stdout
    .split('\n')
    .filter((line) => line && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''));
});

describe('the tarball', () => {
  it('holds the built output, README, LICENSE and package.json, and nothing else', () => {
    const outside = entries.filter((file) => !file.startsWith('dist/'));
    expect(outside.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    recordFigure(
      'tarball',
      `${kib(statSync(tarball()).size)} packed, ${kib(size(entries))} unpacked, ${entries.length} files`,
    );
  });

  it('has every file its exports and bin name, the bin runnable as it is', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const targets = Object.values<string | Record<string, string>>(manifest.exports).flatMap(
      (target) => (typeof target === 'string' ? [target] : Object.values(target)),
    );
    const bin = Object.values<string>(manifest.bin);

    for (const file of [...targets, ...bin]) expect(entries).toContain(file.replace(/^\.\//, ''));
    expect(readFileSync(join(root, bin[0] ?? ''), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@aws-sdk/client-sqs', 'zod']);
    expect(manifest.peerDependenciesMeta).toEqual({
      'aws-cdk-lib': { optional: true },
      constructs: { optional: true },
    });
  });

  it('ships the sender prebuilt and its declaration maps point at TypeScript it carries', () => {
    const sender = entries.filter((file) => file.startsWith('dist/lambda/sender/'));
    const cli = entries.filter((file) => file.startsWith('dist/bin/') && file.endsWith('.mjs'));
    expect(sender.sort()).toEqual([
      'dist/lambda/sender/index.mjs',
      'dist/lambda/sender/index.mjs.LEGAL.txt',
      'dist/lambda/sender/index.mjs.map',
    ]);
    recordFigure('sender bundle', `${kib(size(['dist/lambda/sender/index.mjs']))} minified`);
    recordFigure('o365-mail command line', `${kib(size(cli))} in ${cli.length} files`);

    const maps = entries.filter((file) => file.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const shipped = resolve(dirname(join(root, map)), source).slice(root.length + 1);
        expect(entries, `${map} → ${source}`).toContain(shipped);
      }
    }
  });
});
