import type { Command } from 'commander';

/** `joule init`, `joule start`, `joule devnet`: owned by the node/ engineer (placeholder until node/ lands). */
export function registerNodeCommands(_program: Command): void {}
