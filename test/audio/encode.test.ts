import { mkdirSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { OUTPUT_EXTENSIONS, outputExtension, writeAudioFile } from '../../lib/audio/encode.js';
import { InputError } from '../../lib/errors.js';
import { tempDir, tone } from '../helpers/tmp.js';

const t = suite('audio/encode');
const tmp = tempDir();
t.after(() => tmp.cleanup());

function zeroCrossingHz(x: Float32Array, rate: number): number {
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return (crossings * rate) / x.length;
}

const stereo = { channels: [tone(440, 16000, 1.5, 0.4), tone(440, 16000, 1.5, 0.2)], sampleRate: 16000 };
/** Rate and channel count each format comes back with, for 16 kHz stereo in. */
const expected: Record<string, [number, number]> = {
  wav: [16000, 2],
  flac: [16000, 2],
  mp3: [16000, 2],
  m4a: [16000, 2],
  mp4: [16000, 2],
  aac: [16000, 2],
  ogg: [48000, 2],
  opus: [48000, 2],
  webm: [48000, 2],
  amr: [8000, 1],
};

t('every extension writes a file that decodes back to the tone', async () => {
  assert.equal([...OUTPUT_EXTENSIONS].sort(), Object.keys(expected).sort());
  for (const ext of OUTPUT_EXTENSIONS) {
    const path = tmp.path(`tone.${ext}`);
    const written = await writeAudioFile(path, stereo);
    assert.is(written.extension, ext);
    const back = await decodeFile(path);
    const [rate, channels] = expected[ext]!;
    assert.is(back.sampleRate, rate, `${ext} rate`);
    assert.is(back.channels.length, channels, `${ext} channels`);
    const seconds = back.channels[0]!.length / back.sampleRate;
    // Raw ADTS/MP3/AMR streams carry encoder padding (no edit list): up to ~0.15 s more.
    assert.ok(seconds >= 1.49 && seconds < 1.65, `${ext}: ${seconds} s`);
    const mid = back.channels[0]!.subarray(Math.round(0.2 * rate), Math.round(1.2 * rate));
    assert.ok(Math.abs(zeroCrossingHz(mid, rate) - 440) < 5, `${ext}: ${zeroCrossingHz(mid, rate)} Hz`);
  }
});

t('WAV is native and exact in float32; pcm16 by default', async () => {
  const path = tmp.path('exact.wav');
  const w = await writeAudioFile(path, stereo, { wavFormat: 'float32' });
  assert.is(w.encoder, 'native-wav');
  const back = await decodeFile(path);
  assert.equal(back.channels, stereo.channels);
  await writeAudioFile(tmp.path('p16.wav'), stereo);
  assert.is(readFileSync(tmp.path('p16.wav')).readUInt16LE(34), 16);
});

t('same audio, same bytes (bit-exact muxing)', async () => {
  for (const ext of ['flac', 'mp3', 'm4a', 'ogg', 'amr']) {
    await writeAudioFile(tmp.path(`r1.${ext}`), stereo);
    await writeAudioFile(tmp.path(`r2.${ext}`), stereo);
    assert.equal(readFileSync(tmp.path(`r1.${ext}`)), readFileSync(tmp.path(`r2.${ext}`)), ext);
  }
});

t('bad output paths and options are InputErrors naming the path', async () => {
  mkdirSync(tmp.path('adir.wav'));
  const cases: [string, object, RegExp][] = [
    [tmp.path('x.xyz'), {}, /cannot write "\.xyz"/],
    [tmp.path('noext'), {}, /without an extension/],
    [tmp.path('missing/x.wav'), {}, /output directory .* does not exist/],
    [tmp.path('adir.wav'), {}, /is a directory/],
    [tmp.path('x.amr'), { bitrateKbps: 11 }, /AMR-NB bit rate must be one of/],
  ];
  for (const [path, opts, re] of cases) {
    try {
      await writeAudioFile(path, stereo, opts);
      assert.unreachable(path);
    } catch (err) {
      assert.instance(err, InputError, String(err));
      assert.ok((err as Error).message.startsWith(path), (err as Error).message);
      assert.match((err as Error).message, re);
    }
  }
  assert.is(outputExtension('/a/B.M4A'), 'm4a');
});

t.run();
