import { mkdirSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile, decodeStream } from '../../lib/audio/decode.js';
import { toMono } from '../../lib/audio/mono.js';
import { probeFile } from '../../lib/audio/probe.js';
import { encodeWav } from '../../lib/audio/wav.js';
import { InputError } from '../../lib/errors.js';
import { tempDir, tone } from '../helpers/tmp.js';

const t = suite('audio/decode');
const tmp = tempDir();
t.after(() => tmp.cleanup());

function dominantFreq(x: Float32Array, rate: number): number {
  // Zero-crossing estimate on a clean tone is enough here.
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return (crossings * rate) / x.length;
}

t('native WAV decode: channels, rate, mono downmix', async () => {
  const left = tone(440, 16000, 1);
  const right = tone(440, 16000, 1, 0.25);
  const path = tmp.path('stereo.wav');
  writeFileSync(path, encodeWav({ channels: [left, right], sampleRate: 16000 }, { sampleFormat: 'float32' }));
  const a = await decodeFile(path);
  assert.is(a.sampleRate, 16000);
  assert.is(a.channels.length, 2);
  assert.equal(a.channels[0], left);
  const m = toMono(a);
  assert.ok(Math.abs(m[100]! - (left[100]! + right[100]!) / 2) < 1e-7);
  const mono = await decodeFile(path, { mono: true });
  assert.is(mono.channels.length, 1);
  assert.ok(Math.abs(mono.channels[0]![100]! - m[100]!) < 1e-7);
});

t('resampling keeps the tone frequency and the duration', async () => {
  const path = tmp.path('tone48.wav');
  writeFileSync(path, encodeWav({ channels: [tone(1000, 48000, 2)], sampleRate: 48000 }, { sampleFormat: 'pcm16' }));
  const a = await decodeFile(path, { sampleRate: 16000 });
  assert.is(a.sampleRate, 16000);
  assert.ok(Math.abs(a.channels[0]!.length - 32000) <= 2, `length ${a.channels[0]!.length}`);
  assert.ok(Math.abs(dominantFreq(a.channels[0]!, 16000) - 1000) < 5);
});

t('streaming decode yields the format before the samples and bounded blocks', async () => {
  const path = tmp.path('long.wav');
  writeFileSync(path, encodeWav({ channels: [tone(300, 8000, 20)], sampleRate: 8000 }, { sampleFormat: 'pcm16' }));
  const s = decodeStream(path, { chunkBytes: 4096 });
  let total = 0;
  let maxBlock = 0;
  for await (const block of s.blocks) {
    total += block[0]!.length;
    maxBlock = Math.max(maxBlock, block[0]!.length);
  }
  assert.is((await s.format).sampleRate, 8000);
  assert.is(total, 160000);
  assert.ok(maxBlock <= 4096 / 2 + 2, `block ${maxBlock}`);
});

t('probe reports hash, codec, exact duration', async () => {
  const path = tmp.path('probe.wav');
  writeFileSync(path, encodeWav({ channels: [tone(300, 8000, 1.5), tone(300, 8000, 1.5)], sampleRate: 8000 }));
  const p = await probeFile(path);
  assert.is(p.sampleRate, 8000);
  assert.is(p.channels, 2);
  assert.is(p.frames, 12000);
  assert.is(p.durationSec, 1.5);
  assert.is(p.codec, 'pcm_s16le');
  assert.match(p.sha256, /^[0-9a-f]{64}$/);
});

async function expectInputError(path: string, re: RegExp, opts = {}): Promise<void> {
  try {
    await decodeFile(path, opts);
    assert.unreachable(`${path} should fail`);
  } catch (err) {
    assert.instance(err, InputError, `${path}: ${String(err)}`);
    assert.ok((err as Error).message.startsWith(path), (err as Error).message);
    assert.match((err as Error).message, re);
    assert.not.match((err as Error).message, /\n/);
  }
}

t('bad inputs are one-line InputErrors naming the file', async () => {
  await expectInputError(tmp.path('missing.wav'), /no such file/);
  mkdirSync(tmp.path('adir'));
  await expectInputError(tmp.path('adir'), /is a directory/);
  writeFileSync(tmp.path('empty.mp3'), '');
  await expectInputError(tmp.path('empty.mp3'), /empty/);
  writeFileSync(tmp.path('text.mp3'), 'hello, this is not audio but it is long enough to be looked at by ffmpeg\n'.repeat(50));
  await expectInputError(tmp.path('text.mp3'), /not an audio file|ffmpeg/);
  const good = encodeWav({ channels: [tone(300, 8000, 1)], sampleRate: 8000 });
  writeFileSync(tmp.path('header.wav'), good.subarray(0, 44));
  await expectInputError(tmp.path('header.wav'), /truncated|no data|no audio/);
  writeFileSync(tmp.path('trunc.wav'), good.subarray(0, 3000));
  await expectInputError(tmp.path('trunc.wav'), /truncated/);
  await expectInputError(tmp.path('trunc.wav'), /truncated/, { sampleRate: 16000 });
  const zero = good.slice();
  new DataView(zero.buffer).setUint32(24, 0, true);
  writeFileSync(tmp.path('rate0.wav'), zero);
  await expectInputError(tmp.path('rate0.wav'), /sample rate 0/);
  const nan = tone(300, 8000, 0.5);
  nan[1234] = NaN;
  writeFileSync(tmp.path('nan.wav'), encodeWav({ channels: [nan], sampleRate: 8000 }, { sampleFormat: 'float32' }));
  await expectInputError(tmp.path('nan.wav'), /sample 1234 is NaN/);
  await expectInputError(tmp.path('missing.wav'), /out of range/, { sampleRate: 0 });
});

t.run();
