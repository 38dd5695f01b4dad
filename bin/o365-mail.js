#!/usr/bin/env node
// The command line run from this repository's TypeScript sources (the tests use it); the package's
// bin is the prebuilt dist/bin/o365-mail.mjs. Sources need Node's type stripping (Node 22.18+); an
// older Node would fail on the .ts import with an obscure ERR_UNKNOWN_FILE_EXTENSION, so say so first.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `o365-mail from the sources needs Node.js 22.18 or newer; this is ${process.version}. Use the built command line (npm run build, then node dist/bin/o365-mail.mjs).`,
  );
  process.exit(2);
}
await import('../lib/cli/bin.ts');
