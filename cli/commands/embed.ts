import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { decodeFile } from '../../lib/audio/decode.js';
import { outputExtension, writeAudioFile } from '../../lib/audio/encode.js';
import { InputError } from '../../lib/errors.js';
import { DEFAULT_PROFILE, embedAudio } from '../../lib/mark/embed.js';
import { PROFILES, profileNamed } from '../../lib/mark/profile.js';
import { checkToken } from '../../lib/mark/keys.js';
import type { CommandContext } from '../context.js';
import { asFlag } from '../io.js';
import { readKeyFile } from '../keyfile.js';
import { writeContentReference } from '../content-ref.js';
import { toMono } from '../../lib/audio/mono.js';
import { contentReference, contentReferenceDigest } from '../../lib/mark/content-ref.js';

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

export function embedCommand(cli: Argv, ctx: CommandContext): Argv {
  return cli.command(
    'embed <in> <out>',
    "Embed a leg's mark (key + token) into audio; writes the format the output extension names",
    (y) =>
      y
        .positional('in', { type: 'string', demandOption: true, describe: 'any file ffmpeg reads' })
        .positional('out', { type: 'string', demandOption: true, describe: 'output file (.wav .flac .m4a .mp3 .ogg .opus .amr ...)' })
        .option('key', { type: 'string', demandOption: true, describe: 'key file (earmark keygen)' })
        .option('token', { type: 'string', demandOption: true, describe: "the leg's registry token" })
        .option('offset', { type: 'number', default: 0, describe: "session offset (s) of the input's first sample" })
        .option('profile', { type: 'string', choices: PROFILES.map((p) => p.name), default: DEFAULT_PROFILE.name, describe: 'mark profile (v2: per-leg layer bound to the host; v1: forgeable without the key, for old deployments)' })
        .option('content-ref', { type: 'string', describe: "also write the leg's content reference of the marked output (commit it with `earmark registry content`)" }),
    async (args) => {
      const token = checkToken(args.token, '--token');
      const profile = profileNamed(String(args.profile));
      if (!profile) throw new InputError('--profile', `must be one of ${PROFILES.map((p) => p.name).join(', ')}, got ${String(args.profile)}`);
      const reach = profile.reachSec;
      if (!Number.isFinite(args.offset) || args.offset < 0 || args.offset >= reach)
        throw new InputError('--offset', `must be at least 0 and below the ${profile.name} timeline's reach of ${reach.toFixed(0)} seconds, got ${String(args.offset)}`);
      outputExtension(args.out);
      if (samePath(args.in, args.out)) throw new InputError(args.out, 'is the input file; refusing to overwrite the original');
      const key = await readKeyFile(args.key);
      const audio = await decodeFile(args.in);
      const marked = asFlag(() => embedAudio(audio, { key, token, offsetSec: args.offset, profile }), { offsetSec: '--offset' });
      // Lossless outputs keep float precision where the format allows; WAV as 24-bit PCM keeps the
      // mark (tens of dB above 16-bit quantization would also do) without clipping surprises.
      const refPath = args['content-ref'];
      if (refPath !== undefined && samePath(refPath, args.out)) throw new InputError(refPath, 'is the audio output; give the content reference its own file');
      const written = await writeAudioFile(args.out, marked, { wavFormat: 'pcm24' });
      const seconds = (marked.channels[0]!.length / marked.sampleRate).toFixed(3);
      ctx.io.out(`${written.path}: ${seconds} s marked for token ${token} from session offset ${args.offset} s (key id ${key.id}, mark ${profile.name})`);
      if (refPath !== undefined) {
        const ref = contentReference(toMono(marked), marked.sampleRate, { key, token, offsetSec: args.offset });
        await writeContentReference(refPath, ref);
        ctx.io.out(`${refPath}: content reference of ${token}, ${ref.bits.length} frames of 32 ms, sha256 ${contentReferenceDigest(ref)}`);
      }
    },
  );
}
