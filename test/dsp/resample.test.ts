import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RealFft } from '../../lib/dsp/fft.js';
import { Resampler, resample, concatFloat32 } from '../../lib/dsp/resample.js';
import { hann } from '../../lib/dsp/window.js';
import { seededRandom, tone } from '../helpers/tmp.js';

const t = suite('dsp/resample');

/** Peak frequency (Hz, parabolic interpolation) and level (dB re the strongest expected) of a signal's middle. */
function spectrumPeak(x: Float32Array, rate: number): { hz: number; power: Float64Array; binHz: number } {
  const n = 8192;
  const fft = new RealFft(n);
  const w = hann(n);
  const start = Math.floor((x.length - n) / 2);
  const buf = Float64Array.from({ length: n }, (_, i) => x[start + i]! * w[i]!);
  const p = new Float64Array(fft.bins);
  fft.power(buf, p);
  let k = 1;
  for (let i = 1; i < fft.bins - 1; i++) if (p[i]! > p[k]!) k = i;
  const a = Math.log(p[k - 1]!);
  const b = Math.log(p[k]!);
  const c = Math.log(p[k + 1]!);
  const d = (0.5 * (a - c)) / (a - 2 * b + c);
  return { hz: ((k + d) * rate) / n, power: p, binHz: rate / n };
}

t('a tone keeps its frequency and level across arbitrary ratios', () => {
  const cases: [number, number, number][] = [
    [16000, 8000, 1234.5],
    [44100, 16000, 3000],
    [8000, 48000, 700],
    [16000, 15520, 2500], // 0.97 replay-speed simulation
  ];
  for (const [inRate, outRate, hz] of cases) {
    const x = tone(hz, inRate, 1.5, 0.5);
    const y = resample(x, inRate, outRate);
    assert.is(y.length, Math.round((x.length * outRate) / inRate));
    const peak = spectrumPeak(y, outRate);
    assert.ok(Math.abs(peak.hz - hz) < 0.5, `${inRate}->${outRate}: ${peak.hz} Hz vs ${hz}`);
    let ss = 0;
    for (let i = outRate * 0.25; i < y.length - outRate * 0.25; i++) ss += y[i]! ** 2;
    const rms = Math.sqrt(ss / (y.length - outRate * 0.5));
    assert.ok(Math.abs(rms - 0.5 / Math.SQRT2) < 0.005, `${inRate}->${outRate}: rms ${rms}`);
  }
});

t('downsampling rejects content above the new Nyquist (no aliasing)', () => {
  // 7 kHz at 16 kHz -> 8 kHz would alias to 1 kHz; it must be attenuated by >= 70 dB.
  const x = tone(7000, 16000, 1.5, 0.5);
  const y = resample(x, 16000, 8000);
  let ss = 0;
  for (let i = 2000; i < y.length - 2000; i++) ss += y[i]! ** 2;
  const rms = Math.sqrt(ss / (y.length - 4000));
  assert.ok(20 * Math.log10(rms / 0.35) < -70, `alias level ${20 * Math.log10(rms / 0.35)} dB`);
});

t('streaming with random block sizes equals one-shot resampling', () => {
  const rnd = seededRandom(7);
  const x = Float32Array.from({ length: 20000 }, () => rnd() - 0.5);
  const whole = resample(x, 44100, 16000);
  const r = new Resampler(44100, 16000);
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; ) {
    const n = 1 + Math.floor(rnd() * 3000);
    parts.push(r.process(x.subarray(i, i + n)));
    i += n;
  }
  parts.push(r.flush());
  const streamed = concatFloat32(parts);
  assert.is(streamed.length, whole.length);
  for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(streamed[i]! - whole[i]!) < 1e-6, `sample ${i}`);
});

t.run();
