import type { Argv } from 'yargs';
import { decodeFile } from '../../lib/audio/decode.js';
import { outputExtension, writeAudioFile } from '../../lib/audio/encode.js';
import { applyChain, describeChain, parseChain } from '../../lib/channel/index.js';
import { InputError } from '../../lib/errors.js';
import type { CommandContext } from '../context.js';

export function simulateCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command(
    'simulate <in> <out>',
    'Run audio through a channel chain (real codecs, speed, room, noise ...) and write the result',
    (y) =>
      y
        .positional('in', { type: 'string', demandOption: true, describe: 'any file ffmpeg reads' })
        .positional('out', { type: 'string', demandOption: true, describe: 'output file; its extension names the format (wav flac mp3 m4a ogg opus amr ...)' })
        .option('chain', {
          type: 'string',
          demandOption: true,
          describe: 'steps, e.g. "amrnb:12.2,aac:96,speed:1.03,room:0.4:18" (kinds: amrnb g711 g722 opus aac mp3 resample speed tempo gain noise room bandpass crop)',
        })
        .option('seed', { type: 'number', default: 0, describe: 'seed for the random steps (noise, room)' }),
    async (args) => {
      // Check everything the user typed before decoding anything.
      const steps = parseChain(args.chain);
      outputExtension(args.out);
      if (!Number.isSafeInteger(args.seed)) throw new InputError('--seed', `must be a whole number, got ${String(args.seed)}`);
      const audio = await decodeFile(args.in);
      const result = await applyChain(audio, steps, { seed: args.seed });
      await writeAudioFile(args.out, result);
      const seconds = (result.channels[0]!.length / result.sampleRate).toFixed(3);
      ctx.io.out(
        `${args.out}: ${seconds} s, ${result.sampleRate} Hz, ${result.channels.length} channel(s) (chain "${describeChain(steps)}", seed ${args.seed})`,
      );
    },
  );
}
