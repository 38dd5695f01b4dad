/**
 * package.json against the sources it publishes: every runtime dependency is imported by code a
 * public entry reaches, and everything such code imports is a dependency or a peer. What only the
 * sender or the command line uses is bundled into dist/ and belongs in devDependencies, so that
 * installing the package for a producer stays small.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  files: string[];
};

/** The source each `exports` entry is compiled from: dist/lib/index.js ← lib/index.ts. */
const entrySources = Object.values(manifest.exports)
  .filter((target) => typeof target !== 'string')
  .map((target) => join(root, target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')));

/** Imports that stay in the emitted JavaScript (type-only ones are erased). */
const RUNTIME_IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^;'"]*?\sfrom\s+)?'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Packages the code reachable from `entries` imports at run time, by the file that imports them. */
function runtimeImports(entries: string[]): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [...entries];
  for (let file = queue.shift(); file; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(RUNTIME_IMPORT)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
        packages.set(packageName(specifier), relative(root, file));
      }
    }
  }
  return packages;
}

describe('package.json', () => {
  it('publishes dist/ only, every entry built from a source file of the same path', () => {
    expect(manifest.files).toEqual(['dist']);
    for (const source of entrySources) expect(existsSync(source), source).toBe(true);
  });

  it('depends on exactly what the published entries import at run time', () => {
    const used = runtimeImports(entrySources);
    const declared = { ...manifest.dependencies, ...manifest.peerDependencies };
    const undeclared = [...used].filter(([name]) => !(name in declared));
    const unused = Object.keys(manifest.dependencies).filter((name) => !used.has(name));

    // e.g. [['nodemailer', 'lib/…']]: the published code imports it; add it, or keep it out of there.
    expect(undeclared).toEqual([]);
    // Bundled into the sender or the command line (scripts/build.ts): move it to devDependencies.
    expect(unused).toEqual([]);
  });
});
