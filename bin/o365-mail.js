#!/usr/bin/env node
// The package's bin: a plain JS shim so npm can link it; the command line itself is TypeScript,
// run by Node's type stripping (Node 22.18+). An older Node would fail on the .ts import with an
// obscure ERR_UNKNOWN_FILE_EXTENSION, so say what is needed first.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`o365-mail needs Node.js 22.18 or newer; this is ${process.version}.`);
  process.exit(2);
}
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv);
