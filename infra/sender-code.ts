/**
 * The sender function, with its code either prebuilt or bundled at synth.
 * - `prebuilt`: the minified bundle `npm run build` writes to `dist/lambda/sender/` (esbuild with
 *   exactly {@link lambdaBundling}'s settings, the ones the benchmark measures) and the package
 *   ships. Synth then needs no esbuild, no Docker and no lock file: what apps that install the
 *   package get.
 * - `source`: `NodejsFunction` bundles `functions/sender.ts` at synth, so a deploy from a clone of
 *   this repository ships the code as it is in the working tree.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code, type FunctionProps, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import type { SenderCode } from './mail-sender-props.ts';
import {
  depsLockFilePath,
  functionEntries,
  lambdaBundling,
  projectRoot,
} from './sender-bundling.ts';

/** Node strips types only outside node_modules: a construct loaded from `.ts` runs in a clone. */
const runsFromSources = import.meta.url.endsWith('.ts');

/** Where `npm run build` puts the sender bundle, seen from this module in dist/ or in the sources. */
export const PREBUILT_SENDER_DIR = fileURLToPath(
  new URL(runsFromSources ? '../dist/lambda/sender/' : '../lambda/sender/', import.meta.url),
);

/** `prebuilt` for the package; `source` when the construct itself runs from the TypeScript sources. */
export const DEFAULT_SENDER_CODE: SenderCode = runsFromSources ? 'source' : 'prebuilt';

/** Everything of the function but its code. */
export type SenderFunctionProps = Omit<FunctionProps, 'code' | 'handler'>;

/** The sender function with its code from `from`. */
export function senderFunction(
  scope: Construct,
  id: string,
  from: SenderCode,
  props: SenderFunctionProps,
): LambdaFunction {
  if (from === 'prebuilt') {
    if (!existsSync(join(PREBUILT_SENDER_DIR, 'index.mjs'))) {
      throw new Error(
        `MailSender: the prebuilt sender bundle is missing from ${PREBUILT_SENDER_DIR}. Run \`npm run build\`, or pass senderCode: 'source' to bundle from the sources.`,
      );
    }
    return new LambdaFunction(scope, id, {
      ...props,
      code: Code.fromAsset(PREBUILT_SENDER_DIR),
      handler: 'index.handler',
    });
  }
  if (!existsSync(functionEntries.sender)) {
    throw new Error(
      `MailSender: senderCode 'source' bundles ${functionEntries.sender}, which only a clone of the o365-mail-queue repository has; the package ships its code prebuilt (senderCode: 'prebuilt').`,
    );
  }
  return new NodejsFunction(scope, id, {
    ...props,
    entry: functionEntries.sender,
    projectRoot,
    depsLockFilePath,
    bundling: lambdaBundling,
  });
}
