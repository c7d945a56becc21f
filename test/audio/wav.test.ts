import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeWav, encodeWav, WavStreamReader } from '../../lib/audio/wav.js';
import type { WavSampleFormat } from '../../lib/audio/wav.js';
import { InputError } from '../../lib/errors.js';
import { seededRandom } from '../helpers/tmp.js';

const t = suite('audio/wav');

function randomChannels(n: number, frames: number, seed: number): Float32Array[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: frames }, () => rnd() * 1.8 - 0.9));
}

// Quantization step of each format: the round trip must be within half a step.
const STEP: Record<WavSampleFormat, number> = {
  pcm8: 1 / 128,
  pcm16: 1 / 32768,
  pcm24: 1 / 8388608,
  pcm32: 1 / 2147483648,
  float32: 0,
  float64: 0,
};

for (const fmt of Object.keys(STEP) as WavSampleFormat[]) {
  for (const nCh of [1, 2, 6]) {
    t(`round trip ${fmt}, ${nCh} channel(s)`, () => {
      const channels = randomChannels(nCh, 1001, nCh * 31 + fmt.length);
      const bytes = encodeWav({ channels, sampleRate: 22050 }, { sampleFormat: fmt });
      const back = decodeWav(bytes, 'rt.wav');
      assert.is(back.sampleRate, 22050);
      assert.is(back.channels.length, nCh);
      assert.is(back.format.sampleFormat, fmt);
      let maxErr = 0;
      for (let c = 0; c < nCh; c++) {
        assert.is(back.channels[c]!.length, 1001);
        for (let i = 0; i < 1001; i++) maxErr = Math.max(maxErr, Math.abs(back.channels[c]![i]! - channels[c]![i]!));
      }
      assert.ok(maxErr <= STEP[fmt] / 2 + 1e-7, `max error ${maxErr}`);
    });
  }
}

t('WAVE_FORMAT_EXTENSIBLE is written for >2 channels and read back; forced for stereo too', () => {
  const channels = randomChannels(2, 100, 5);
  const bytes = encodeWav({ channels, sampleRate: 48000 }, { sampleFormat: 'pcm16', extensible: true });
  assert.is(new DataView(bytes.buffer).getUint16(20, true), 0xfffe);
  const back = decodeWav(bytes);
  assert.is(back.channels.length, 2);
  assert.is(back.format.sampleFormat, 'pcm16');
});

t('streaming reader gives identical samples for any chunking, with unknown chunks skipped', () => {
  const channels = randomChannels(3, 777, 9);
  const plain = encodeWav({ channels, sampleRate: 16000 }, { sampleFormat: 'pcm24' });
  // Insert a LIST chunk between fmt and data (odd size, padded).
  const fmtEnd = 12 + 8 + new DataView(plain.buffer).getUint32(16, true);
  const list = new Uint8Array(8 + 5 + 1);
  list.set([0x4c, 0x49, 0x53, 0x54, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
  const bytes = new Uint8Array(plain.length + list.length);
  bytes.set(plain.subarray(0, fmtEnd), 0);
  bytes.set(list, fmtEnd);
  bytes.set(plain.subarray(fmtEnd), fmtEnd + list.length);
  const rnd = seededRandom(3);
  const reader = new WavStreamReader('chunked.wav');
  const got: number[][] = [[], [], []];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * 50);
    const block = reader.push(bytes.slice(at, at + n));
    block.forEach((ch, c) => got[c]!.push(...ch));
    at += n;
  }
  assert.is(reader.end().truncated, false);
  const whole = decodeWav(plain);
  for (let c = 0; c < 3; c++) assert.equal(Float32Array.from(got[c]!), whole.channels[c]);
});

t('bad WAVs are InputErrors naming the input', () => {
  const good = encodeWav({ channels: randomChannels(1, 100, 1), sampleRate: 8000 });
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /empty or not a WAV/],
    ['garbage', new TextEncoder().encode('this is not a wav file at all'), /not a RIFF\/WAVE/],
    ['header only', good.subarray(0, 44 - 8), /no data chunk/],
    ['truncated', good.subarray(0, good.length - 11), /truncated/],
  ];
  for (const [name, bytes, re] of cases) {
    try {
      decodeWav(bytes, `${name}.wav`);
      assert.unreachable(`${name} should throw`);
    } catch (err) {
      assert.instance(err, InputError, name);
      assert.match((err as Error).message, new RegExp(`^${name}\\.wav: `));
      assert.match((err as Error).message, re);
    }
  }
  const zeroRate = good.slice();
  new DataView(zeroRate.buffer).setUint32(24, 0, true);
  assert.throws(() => decodeWav(zeroRate, 'zero.wav'), /sample rate 0 Hz/);
  const manyCh = good.slice();
  new DataView(manyCh.buffer).setUint16(22, 9999, true);
  assert.throws(() => decodeWav(manyCh, 'many.wav'), /9999 channels/);
  const adpcm = good.slice();
  new DataView(adpcm.buffer).setUint16(20, 0x11, true);
  assert.throws(() => decodeWav(adpcm, 'adpcm.wav'), /unsupported WAV encoding/);
});

t.run();
