#!/usr/bin/env node
// The `joule` executable: a JS shim because the CLI itself is TypeScript, which Node runs
// directly only from 22.18 / 23.6 on (the project pins Node 24; npx puts it on PATH).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `error NODE_TOO_OLD: joule needs Node.js 24 (found ${process.versions.node}); ` +
      'run it as "npx joule ..." or "npm run joule -- ..." from the repository, which use the pinned Node.\n',
  );
  process.exit(1);
}
await import('./main.ts');
