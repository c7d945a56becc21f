import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AudioBuffer } from '../../lib/audio/types.js';
import { applyChain, bandpass, crop, gain, noise, room, speed, tempo } from '../../lib/channel/index.js';
import { InputError } from '../../lib/errors.js';
import { db, peakFrequency, rms, rt60FromDecay, whiteNoise } from './measure.js';

const t = suite('channel/effects');
const RATE = 16000;

function toneBuffer(freqHz: number, seconds: number, rate = RATE, amplitude = 0.4): AudioBuffer {
  return { channels: [Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate))], sampleRate: rate };
}

t('speed 1.05 shortens by 1/1.05 and raises a tone by x1.05; 0.95 the reverse', async () => {
  const x = toneBuffer(1000, 2);
  for (const f of [1.05, 0.95]) {
    const y = await speed(f)(x);
    const expected = 32000 / f;
    assert.ok(Math.abs(y.channels[0]!.length - expected) / expected < 0.01, `length ${y.channels[0]!.length}`);
    assert.is(y.sampleRate, RATE);
    const pitch = peakFrequency(y.channels[0]!.subarray(800, -800), RATE);
    assert.ok(Math.abs(pitch - 1000 * f) < 1, `speed ${f}: ${pitch.toFixed(1)} Hz`);
    // Interpolation keeps the level (no loss inside the passband).
    assert.ok(Math.abs(db(rms(y.channels[0]!, 800, y.channels[0]!.length - 800) / rms(x.channels[0]!))) < 0.1);
  }
});

t('tempo keeps a tone\'s pitch and changes the duration', async () => {
  const x = toneBuffer(700, 2);
  for (const f of [1.25, 0.8]) {
    const y = await tempo(f)(x);
    const expected = 32000 / f;
    assert.ok(Math.abs(y.channels[0]!.length - expected) / expected < 0.01, `length ${y.channels[0]!.length}`);
    const pitch = peakFrequency(y.channels[0]!.subarray(1600, -1600), RATE);
    assert.ok(Math.abs(pitch - 700) < 3, `tempo ${f}: ${pitch.toFixed(1)} Hz`);
  }
});

t('gain scales by 10^(dB/20)', async () => {
  const x = toneBuffer(440, 0.5);
  const y = await gain(-6)(x);
  assert.ok(Math.abs(db(rms(y.channels[0]!) / rms(x.channels[0]!)) + 6) < 1e-4);
  const z = await gain(12)(x);
  assert.ok(Math.abs(Math.max(...z.channels[0]!) - 0.4 * 10 ** 0.6) < 1e-4, 'float: no clipping');
});

t('noise hits the requested SNR (±0.5 dB), is seeded and chain-position independent', async () => {
  const x = { channels: [toneBuffer(440, 1).channels[0]!, toneBuffer(300, 1, RATE, 0.1).channels[0]!], sampleRate: RATE };
  for (const snr of [0, 10, 30]) {
    const y = await noise(snr)(x, { seed: 3 });
    let ps = 0;
    let pn = 0;
    x.channels.forEach((ch, c) =>
      ch.forEach((v, i) => {
        ps += v * v;
        pn += (y.channels[c]![i]! - v) ** 2;
      }),
    );
    const measured = 10 * Math.log10(ps / pn);
    assert.ok(Math.abs(measured - snr) < 0.5, `SNR ${measured.toFixed(3)} for ${snr}`);
  }
  const a = await noise(20)(x, { seed: 3 });
  const b = await noise(20)(x, { seed: 3 });
  const c = await noise(20)(x, { seed: 4 });
  assert.equal(a.channels, b.channels);
  assert.not.equal(a.channels[0], c.channels[0]);
  assert.not.equal(a.channels[0]!.map((v, i) => v - x.channels[0]![i]!), a.channels[1]!.map((v, i) => v - x.channels[1]![i]!), 'channels get independent noise');
  // The noise stream is named by kind and occurrence, so a step before it does not shift it.
  const d = await applyChain(x, 'gain:0,noise:20', { seed: 3 });
  assert.equal(d.channels, a.channels);
  const silent = { channels: [new Float32Array(100)], sampleRate: RATE };
  try {
    await noise(10)(silent);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, /silent/);
  }
});

t('room adds a reverberant tail whose decay matches RT60; seeded; SNR respected', async () => {
  const x = { channels: [whiteNoise(RATE, 0.3, 11)], sampleRate: RATE };
  for (const rt60 of [0.3, 0.8]) {
    const y = await room(rt60, 60)(x, { seed: 5 });
    const out = y.channels[0]!;
    assert.is(out.length, RATE + Math.ceil(rt60 * RATE) - 1, 'output grows by the tail');
    // Energy after the input ended: the first 50 ms of tail within 15 dB of the input level.
    const tailDb = db(rms(out, RATE, RATE + 800) / rms(x.channels[0]!));
    assert.ok(tailDb > -15, `tail level ${tailDb.toFixed(1)} dB`);
    const estimate = rt60FromDecay(out.subarray(RATE), RATE);
    assert.ok(Math.abs(estimate - rt60) / rt60 < 0.1, `RT60 ${rt60}: decay says ${estimate.toFixed(3)} s`);
  }
  const a = await room(0.4, 20)(x, { seed: 1 });
  const b = await room(0.4, 20)(x, { seed: 1 });
  const c = await room(0.4, 20)(x, { seed: 2 });
  assert.equal(a.channels, b.channels);
  assert.not.equal(a.channels[0], c.channels[0]);
  // With low ambient SNR the noise floor dominates the tail: the far end is not silent.
  const noisy = (await room(0.3, 10)(x, { seed: 1 })).channels[0]!;
  assert.ok(rms(noisy, noisy.length - 800) > 0.01);
});

t('bandpass passes the band and attenuates outside it', async () => {
  const level = async (f: number) => {
    const x = toneBuffer(f, 1);
    const y = await bandpass(300, 3400)(x);
    return db(rms(y.channels[0]!, 3200) / rms(x.channels[0]!, 3200));
  };
  assert.ok(Math.abs(await level(1000)) < 0.5, 'in band');
  assert.ok((await level(100)) < -30, `100 Hz: ${(await level(100)).toFixed(1)} dB`);
  assert.ok((await level(6000)) < -30, `6 kHz: ${(await level(6000)).toFixed(1)} dB`);
  assert.ok(Math.abs((await level(300)) + 3) < 0.5, 'the edge is the -3 dB point');
  // Upper edge at or above Nyquist: high-pass only.
  const hp = await bandpass(300, 8000)(toneBuffer(7000, 1));
  assert.ok(rms(hp.channels[0]!, 3200) > 0.25);
});

t('crop keeps the requested span, clamps at the end, rejects a start past the end', async () => {
  const x = { channels: [Float32Array.from({ length: 3 * RATE }, (_, i) => i)], sampleRate: RATE };
  const y = await crop(0.5, 1)(x);
  assert.is(y.channels[0]!.length, RATE);
  assert.is(y.channels[0]![0], 0.5 * RATE);
  const z = await crop(2.5, 10)(x);
  assert.is(z.channels[0]!.length, 0.5 * RATE);
  try {
    await crop(3, 1)(x);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, InputError);
    assert.match((err as Error).message, /crop:3:1.*past the end of the 3\.000 s input/);
  }
});

t('a whole chain is deterministic and reports its steps', async () => {
  const x = { channels: [whiteNoise(2 * RATE, 0.2, 3)], sampleRate: RATE };
  const spec = 'amrnb:12.2,aac:96,speed:1.03,room:0.4:18';
  const a = await applyChain(x, spec, { seed: 9 });
  const b = await applyChain(x, spec, { seed: 9 });
  assert.is(a.sampleRate, 8000);
  assert.equal(a.channels, b.channels);
  assert.is(a.channels[0]!.length, Math.round(16000 / 1.03) + Math.ceil(0.4 * 8000) - 1);
  // The input is never modified.
  assert.equal(x.channels[0], whiteNoise(2 * RATE, 0.2, 3));
});

t.run();
