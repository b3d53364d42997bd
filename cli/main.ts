/**
 * The `joule` process entry point (`node cli/main.ts ...`; cli/bin.js for the installed
 * executable). Node compiles the CLI's whole module graph at every start, about a second of
 * CPU on a small machine before any command runs; its compile cache keeps the result, which
 * halves that for every later start (a CLI call, a node restart). So the cache is enabled
 * first, and the command tree (program.ts) is loaded after it, dynamically: a static import
 * would be compiled before this line ran.
 *
 * The cache lives beside the dependencies (node_modules/.cache), owned by whoever installed
 * them, not in the shared temporary directory, where another local user could plant one.
 * Node checks each entry against its source; a cache it cannot write is no error (the CLI
 * starts uncached). NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/joule-compile-cache/', import.meta.url)));
const { run } = await import('./program.ts');
await run();
