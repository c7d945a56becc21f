import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AudioBuffer } from '../../lib/audio/types.js';
import { CODEC_DELAY_SAMPLES, aac, amrnb, applyChain, g711, g722, mp3, opus, resample } from '../../lib/channel/index.js';
import type { Transform } from '../../lib/channel/index.js';
import { bandFraction, bestLag, correlation, db, rms, whiteNoise } from './measure.js';

const t = suite('channel/codecs');

const RATE = 16000;
/** 0.25 s silence, 1.5 s of full-band noise, 0.25 s silence, at 16 kHz. */
function burst(): AudioBuffer {
  const x = new Float32Array(2 * RATE);
  x.set(whiteNoise(1.5 * RATE, 0.3, 7), 0.25 * RATE);
  return { channels: [x], sampleRate: RATE };
}
const input = burst();

t('AMR-NB: 8 kHz mono, nothing above 4 kHz, speech band kept', async () => {
  const stereo: AudioBuffer = { channels: [input.channels[0]!, input.channels[0]!.map((v) => -0.5 * v)], sampleRate: RATE };
  const out = await amrnb(12.2)(stereo);
  assert.is(out.sampleRate, 8000);
  assert.is(out.channels.length, 1);
  assert.is(out.channels[0]!.length, 16000);
  // Back at 16 kHz, the band the 8 kHz codec cannot carry stays empty (soxr's stop band).
  const up = await resample(16000)(out);
  assert.ok(bandFraction(up.channels[0]!, 16000, 4200, 8000) < 1e-4, `above 4.2 kHz: ${bandFraction(up.channels[0]!, 16000, 4200, 8000)}`);
  // ...whereas the input had half its energy there.
  assert.ok(bandFraction(input.channels[0]!, 16000, 4000, 8000) > 0.45);
  assert.ok(bandFraction(out.channels[0]!, 8000, 300, 3400) > 0.5);
});

t('AMR-NB modes differ: 4.75 kbit/s is further from the input than 12.2', async () => {
  const tone: AudioBuffer = { channels: [Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 8000) + 0.1 * Math.sin((2 * Math.PI * 1230 * i) / 8000))], sampleRate: 8000 };
  const snr = async (tr: Transform) => {
    const y = (await tr(tone)).channels[0]!;
    const x = tone.channels[0]!;
    const err = y.map((v, i) => v - x[i]!);
    return db(rms(x, 800, 7200) / rms(err, 800, 7200));
  };
  const hi = await snr(amrnb(12.2));
  const lo = await snr(amrnb(4.75));
  assert.ok(hi > lo, `12.2: ${hi.toFixed(1)} dB, 4.75: ${lo.toFixed(1)} dB`);
});

t('G.711 mu-law and A-law: 8 kHz, band-limited, about 35 dB SNR on a loud tone', async () => {
  for (const law of ['mu', 'a'] as const) {
    const out = await g711(law)(input);
    assert.is(out.sampleRate, 8000);
    assert.is(out.channels[0]!.length, 16000);
    const up = await resample(16000)(out);
    assert.ok(bandFraction(up.channels[0]!, 16000, 4200, 8000) < 1e-4);
    const tone: AudioBuffer = { channels: [Float32Array.from({ length: 8000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 8000))], sampleRate: 8000 };
    const y = (await g711(law)(tone)).channels[0]!;
    const err = y.map((v, i) => v - tone.channels[0]![i]!);
    const snr = db(rms(tone.channels[0]!) / rms(err));
    // Companded 8-bit PCM: roughly 6 dB per bit minus companding loss; 30..45 dB on a loud tone.
    assert.ok(snr > 30 && snr < 45, `${law}-law SNR ${snr.toFixed(1)} dB`);
  }
});

/**
 * Codec delay compensation: each codec's output lines up with its input (cross-correlation
 * peak at lag 0) and has exactly the rate-scaled length; 'keep' shows the raw delay.
 */
t('codec delay is compensated: aligned output, exact length; keep mode shows the delay', async () => {
  const cases: [Transform, keyof typeof CODEC_DELAY_SAMPLES][] = [
    [amrnb(12.2), 'amrnb'],
    [g711('a'), 'g711'],
    [g722(), 'g722'],
    [opus(32), 'opus'],
    [aac(96), 'aac'],
    [mp3(64), 'mp3'],
  ];
  for (const [codec, kind] of cases) {
    const out = await codec(input);
    const ref = await resample(out.sampleRate)(input);
    const y = out.channels[0]!;
    assert.is(y.length, ref.channels[0]!.length, `${kind} length`);
    const lag = bestLag(ref.channels[0]!, y, 3000);
    assert.ok(Math.abs(lag) <= (out.sampleRate >= 48000 ? 6 : 1), `${kind}: lag ${lag} samples at ${out.sampleRate} Hz`);
    const c = correlation(ref.channels[0]!, y);
    assert.ok(c > 0.6, `${kind}: correlation ${c.toFixed(3)}`);
    const raw = await codec(input, { codecDelay: 'keep' });
    const rawLag = bestLag(ref.channels[0]!, raw.channels[0]!, 3000);
    assert.ok(Math.abs(rawLag - CODEC_DELAY_SAMPLES[kind]) <= (out.sampleRate >= 48000 ? 6 : 1), `${kind}: raw lag ${rawLag}`);
    assert.ok(raw.channels[0]!.length >= y.length - CODEC_DELAY_SAMPLES[kind], `${kind}: raw length ${raw.channels[0]!.length}`);
  }
});

t('G.722 is 16 kHz wideband; Opus 48 kHz; AAC and MP3 keep supported rates and channels', async () => {
  const g = await g722()(input);
  assert.is(g.sampleRate, 16000);
  assert.ok(bandFraction(g.channels[0]!, 16000, 4000, 7000) > 0.2, 'G.722 carries 4-7 kHz');
  const stereo: AudioBuffer = { channels: [input.channels[0]!, whiteNoise(2 * RATE, 0.2, 9)], sampleRate: RATE };
  const o = await opus(48)(stereo);
  assert.is(o.sampleRate, 48000);
  assert.is(o.channels.length, 2);
  const a = await aac(128)(stereo);
  assert.is(a.sampleRate, 16000);
  assert.is(a.channels.length, 2);
  const m = await mp3(128)({ channels: [whiteNoise(44100, 0.2)], sampleRate: 44100 });
  assert.is(m.sampleRate, 44100);
  // A rate AAC does not take is resampled to 48 kHz first.
  const odd = await aac(96)({ channels: [whiteNoise(7000, 0.2)], sampleRate: 7000 });
  assert.is(odd.sampleRate, 48000);
  assert.is(odd.channels[0]!.length, 48000);
});

t('codecs are deterministic and empty input stays empty', async () => {
  for (const chain of ['amrnb:7.95,g711:mu', 'opus:16', 'aac:64,mp3:96']) {
    const a = await applyChain(input, chain);
    const b = await applyChain(input, chain);
    assert.equal(a.channels[0], b.channels[0], chain);
  }
  const empty = await amrnb(12.2)({ channels: [new Float32Array(0)], sampleRate: 16000 });
  assert.is(empty.sampleRate, 8000);
  assert.is(empty.channels[0]!.length, 0);
});

t.run();
