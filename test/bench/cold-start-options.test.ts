import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, functionEntries, lambdaBundling } from '../../infra/sender-bundling.ts';
import { esbuildOptionsFromBundling, topContributors } from '../../scripts/bench/cold-start.ts';

describe('the bench builds the sender as NodejsFunction would', () => {
  it('bundles the SDK when the stack says so, and can flip it for the comparison', () => {
    const stack = { bundleAwsSDK: true, externalModules: [], minify: true };
    expect(esbuildOptionsFromBundling(stack).external).toEqual([]);
    expect(esbuildOptionsFromBundling(stack, { bundleAwsSdk: false }).external).toEqual([
      '@aws-sdk/*',
    ]);
  });

  it('leaves @aws-sdk/* external by default, as CDK does for Node 18+ runtimes', () => {
    expect(esbuildOptionsFromBundling({}).external).toEqual(['@aws-sdk/*']);
    expect(esbuildOptionsFromBundling({}, { bundleAwsSdk: true }).external).toEqual([]);
  });

  it('passes format, minify, banner and main fields through', () => {
    const options = esbuildOptionsFromBundling({
      format: 'esm' as never,
      minify: true,
      banner: '/* b */',
      mainFields: ['module', 'main'],
    });
    expect(options).toMatchObject({
      format: 'esm',
      minify: true,
      banner: { js: '/* b */' },
      mainFields: ['module', 'main'],
      platform: 'node',
      bundle: true,
    });
  });
});

describe('bundle contributors', () => {
  it('groups output bytes by the innermost package, project files apart', () => {
    const metafile = {
      inputs: {},
      outputs: {
        'out.mjs': {
          bytes: 0,
          imports: [],
          exports: [],
          inputs: {
            'node_modules/@azure/msal-node/dist/a.mjs': { bytesInOutput: 10 },
            'node_modules/@azure/msal-node/node_modules/jsonwebtoken/index.js': {
              bytesInOutput: 7,
            },
            'node_modules/nodemailer/dist/esm/x.js': { bytesInOutput: 30 },
            'lib/config/sender-config.ts': { bytesInOutput: 5 },
          },
        },
      },
    } as unknown as Metafile;
    expect(topContributors(metafile)).toEqual([
      { name: 'nodemailer', bytes: 30 },
      { name: '@azure/msal-node', bytes: 10 },
      { name: 'jsonwebtoken', bytes: 7 },
      { name: 'this project', bytes: 5 },
    ]);
  });
});

describe('esbuildArgs, as CDK hands them to the esbuild CLI', () => {
  it('turns --alias entries into esbuild aliases, the same the stack and esbuildOptions use', () => {
    expect(
      esbuildOptionsFromBundling({ esbuildArgs: { '--alias': ['a=./x.ts', 'b=c'] } }).alias,
    ).toEqual({ a: './x.ts', b: 'c' });
    expect(esbuildOptionsFromBundling({ esbuildArgs: { '--alias': 'a=./x.ts' } }).alias).toEqual({
      a: './x.ts',
    });
    expect(esbuildOptionsFromBundling(lambdaBundling).alias).toEqual(
      esbuildOptions(functionEntries.sender, 'out.mjs').alias,
    );
    expect(esbuildOptionsFromBundling(lambdaBundling).alias).toHaveProperty('jsonwebtoken');
  });

  it('moves license comments out of the bundle exactly as the stack does', () => {
    expect(
      esbuildOptionsFromBundling({ esbuildArgs: { '--legal-comments': 'external' } }).legalComments,
    ).toBe('external');
    expect(esbuildOptionsFromBundling(lambdaBundling).legalComments).toBe(
      esbuildOptions(functionEntries.sender, 'out.mjs').legalComments,
    );
  });

  it('refuses flags it does not translate rather than timing another bundle', () => {
    expect(() => esbuildOptionsFromBundling({ esbuildArgs: { '--log-limit': '0' } })).toThrow(
      /--log-limit/,
    );
    expect(() => esbuildOptionsFromBundling({ esbuildArgs: { '--alias': 'nopath' } })).toThrow(
      /name=path/,
    );
  });
});
