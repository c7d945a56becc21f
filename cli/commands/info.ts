import type { Argv } from 'yargs';
import { probeFile } from '../../lib/audio/probe.js';
import type { ProbeResult } from '../../lib/audio/probe.js';
import type { CommandContext } from '../context.js';

export function renderProbeText(p: ProbeResult): string {
  const rows: [string, string][] = [
    ['File', p.path],
    ['Size', `${p.sizeBytes} bytes`],
    ['SHA-256', p.sha256],
    ['Container', p.container],
    ['Codec', p.codec],
    ['Sample rate', `${p.sampleRate} Hz`],
    ['Channels', String(p.channels)],
    ['Duration', `${p.durationSec.toFixed(3)} s (${p.frames} frames decoded)`],
    ['Container says', p.containerDurationSec === null ? 'no duration' : `${p.containerDurationSec.toFixed(3)} s`],
    ['Video track', p.hasVideo ? 'yes' : 'no'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

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
