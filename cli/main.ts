import yargs from 'yargs';
import type { Argv } from 'yargs';
import { commandModules } from './commands/index.js';
import type { CommandContext } from './context.js';
import { errorLine, ExitCode, exitCodeForError, processIo } from './io.js';
import type { CliIo } from './io.js';
import { VERSION } from '../lib/version.js';

/**
 * Build the yargs parser. Each command module registers itself from the explicit array in
 * commands/index.ts; handlers receive the shared `CommandContext` for output and exit code.
 */
export function buildCli(argv: string[], ctx: CommandContext): Argv {
  let cli = yargs(argv)
    .scriptName('earmark')
    .version(VERSION)
    .strict()
    .demandCommand(1, 'earmark: name a command (see earmark --help)')
    .recommendCommands()
    .wrap(100)
    .exitProcess(false)
    .fail((msg, err) => {
      // Parse errors come with msg; handler errors are rethrown to runCli's catch.
      if (err) throw err;
      throw new UsageError(msg ?? 'invalid usage');
    });
  for (const mod of commandModules) cli = mod(cli, ctx);
  return cli;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Run the CLI with the given arguments; returns the exit code (never throws). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const ctx: CommandContext = { io, exitCode: ExitCode.ok };
  try {
    await buildCli(argv, ctx).parseAsync();
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`earmark: ${err.message.split('\n')[0]}`);
      return ExitCode.usage;
    }
    if (process.env['EARMARK_DEBUG'] && err instanceof Error && err.stack) io.err(err.stack);
    io.err(errorLine(err));
    return exitCodeForError(err);
  }
}
