#!/usr/bin/env node
// The package's bin: a plain JS shim so npm can link it; the command line itself is TypeScript,
// run by Node's type stripping (Node 22.18+).
import { main } from '../lib/cli/main.ts';

process.exitCode = await main(process.argv);
