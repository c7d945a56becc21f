import type { Argv } from 'yargs';
import { probeFile } from '../../lib/audio/probe.js';
import type { CommandContext } from '../context.js';
import { renderProbeText } from '../render/info.js';

export function infoCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command(
    'info <file>',
    'Probe an audio or video file: SHA-256, container, codec, rate, channels, exact duration',
    (y) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'any file ffmpeg reads' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
    async (args) => {
      const probe = await probeFile(args.file);
      ctx.io.out(args.json ? JSON.stringify(probe, null, 2) : renderProbeText(probe));
    },
  );
}
