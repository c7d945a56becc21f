import type { Argv } from 'yargs';
import type { CommandContext } from '../context.js';
import { embedCommand } from './embed.js';
import { infoCommand } from './info.js';
import { keygenCommand } from './keygen.js';
import { scanCommand } from './scan.js';
import { registryCommand } from './registry.js';
import { simulateCommand } from './simulate.js';

/**
 * A command module adds one command (or one command group) to the parser. Handlers map
 * arguments to library options, call the library, render to a string and write it through
 * `ctx.io`; they never call process.exit.
 */
export type CommandModule = (cli: Argv, ctx: CommandContext) => Argv;

/** Every command, in help order. A test checks each file in this folder is registered. */
export const commandModules: readonly CommandModule[] = [
  keygenCommand,
  embedCommand,
  scanCommand,
  infoCommand,
  simulateCommand,
  registryCommand,
];
