import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RealFft, nextPowerOfTwo } from '../../lib/dsp/fft.js';
import { seededRandom } from '../helpers/tmp.js';

const t = suite('dsp/fft');

t('forward then inverse returns the signal', () => {
  for (const n of [4, 32, 512, 4096]) {
    const fft = new RealFft(n);
    const rnd = seededRandom(n);
    const x = Float64Array.from({ length: n }, () => rnd() - 0.5);
    const re = new Float64Array(fft.bins);
    const im = new Float64Array(fft.bins);
    fft.forward(x, re, im);
    const y = new Float64Array(n);
    fft.inverse(re, im, y);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(x[i]! - y[i]!) < 1e-12, `n=${n} i=${i}`);
  }
});

t('a cosine at bin 5 puts N/2 amplitude in bin 5 only; Parseval holds', () => {
  const n = 64;
  const fft = new RealFft(n);
  const x = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * 5 * i) / n));
  const p = new Float64Array(fft.bins);
  fft.power(x, p);
  for (let k = 0; k < fft.bins; k++) assert.ok(Math.abs(p[k]! - (k === 5 ? (n / 2) ** 2 : 0)) < 1e-9, `bin ${k}: ${p[k]}`);
});

t('sizes must be powers of two', () => {
  assert.throws(() => new RealFft(48), /power of two/);
  assert.throws(() => new RealFft(2), /power of two/);
  assert.is(nextPowerOfTwo(1000), 1024);
  assert.is(nextPowerOfTwo(1024), 1024);
});

t.run();
