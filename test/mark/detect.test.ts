import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resample } from '../../lib/dsp/resample.js';
import { crossFitScore } from '../../lib/mark/detect/crossfit.js';
import { DetectorCache, detect } from '../../lib/mark/detect/index.js';
import type { MarkSegment } from '../../lib/mark/detect/index.js';
import { RealFft } from '../../lib/dsp/fft.js';
import { analyzeClip } from '../../lib/mark/features/analysis.js';
import { tileFeatures } from '../../lib/mark/features/tiles.js';
import { LegPattern } from '../../lib/mark/pattern.js';
import { PROFILE_V1 } from '../../lib/mark/profile.js';
import { embedAudio } from '../../lib/mark/embed.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { speech } from './speech.js';

const t = suite('mark/detect');
const rate = 16000;
// Fixed keys keep the test deterministic (a random key changes every z).
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 53 + 3) & 0xff));
const tokens = Array.from({ length: 16 }, (_, i) => `leg-${i.toString(36)}-${key.id.slice(0, 4)}`);
const opts = { key, candidates: tokens, decoys: 64 };

async function marked(name: string, token: string, offsetSec: number, fromSec: number, seconds: number): Promise<Float32Array> {
  const x = (await speech(name)).subarray(fromSec * rate, (fromSec + seconds) * rate);
  return embedAudio({ channels: [x], sampleRate: rate }, { key, token, offsetSec }).channels[0]!;
}

t('finds the right leg among 16 candidates and recovers its session offset (+-20 ms)', async () => {
  const y = await marked('allison-1', tokens[5]!, 5000.25, 10, 20);
  const clip = y.subarray(Math.round(4.3 * rate), Math.round(14.3 * rate));
  const r = detect({ channels: [clip], sampleRate: rate }, opts);
  assert.is(r.legs.length, 1);
  const leg = r.legs[0]!;
  assert.is(leg.token, tokens[5]);
  assert.ok(leg.pValue <= 1e-6, `p ${leg.pValue}`);
  assert.ok(Math.abs(leg.speed - 1) < 0.005);
  assert.is(leg.segments.length, 1);
  const seg = leg.segments[0]!;
  assert.ok(seg.startSec < 1 && seg.endSec > 9, `segment ${seg.startSec}-${seg.endSec}`);
  const expected = 5000.25 + 4.3 + seg.startSec;
  assert.ok(Math.abs(seg.sessionOffsetSec - expected) <= 0.02, `offset ${seg.sessionOffsetSec} vs ${expected}`);
  // Every other candidate is far from significance.
  for (const s of r.scores) if (s.token !== tokens[5]) assert.ok(s.pValue > 1e-3, `${s.token} p ${s.pValue}`);
});

for (const r of [8000, 44100, 48000]) {
  t(`v1 embedded at ${r} Hz (the bridge's own rate; the detector analyses at 16 kHz): the right leg, its offset +-20 ms`, async () => {
    const x = (await speech('allison-1', r)).subarray(10 * r, 22 * r);
    const y = embedAudio({ channels: [x], sampleRate: r }, { key, token: tokens[9]!, offsetSec: 321.5 }).channels[0]!;
    const res = detect({ channels: [y], sampleRate: r }, opts);
    assert.equal(res.legs.map((l) => l.token), [tokens[9]]);
    const seg = res.legs[0]!.segments[0]!;
    assert.ok(Math.abs(seg.sessionOffsetSec - (321.5 + seg.startSec)) <= 0.02, `offset ${seg.sessionOffsetSec}`);
  });
}

const other: Float32Array = (await speech('allison-3')).subarray(0, 56 * rate);

t('a clip up to 64 s is scored as one window: 56 s pools more z than its best 32 s window (at most sqrt(56 / 32))', async () => {
  // A tap-like clip: the marked voice plus another talker's unmarked voice at twice its amplitude.
  const y = Float32Array.from(await marked('allison-1', tokens[3]!, 9000, 20, 56), (v, i) => v + 2 * ((other[i] ?? 0) as number));
  const r64 = detect({ channels: [y], sampleRate: rate }, opts);
  const r32 = detect({ channels: [y], sampleRate: rate }, { ...opts, maxWindowSec: 32 });
  assert.is(r64.legs[0]?.token, tokens[3]);
  assert.is(r32.legs[0]?.token, tokens[3]);
  const ratio = r64.legs[0]!.score / r32.legs[0]!.score;
  // Equal scores if the whole clip were never one window; below sqrt(56 / 32) = 1.32 because the
  // best 32 s window is the clip's strongest part.
  assert.ok(ratio > 1.1 && ratio < 1.4, `z ratio ${ratio.toFixed(3)} (${r64.legs[0]!.score.toFixed(2)} / ${r32.legs[0]!.score.toFixed(2)})`);
  assert.is(r64.legs[0]!.segments.length, 1);
  assert.ok(r64.legs[0]!.segments[0]!.endSec - r64.legs[0]!.segments[0]!.startSec > 50);
});

t('long clips are scanned in overlapping pieces: spliced legs and offsets found, p-values pay for the pieces', async () => {
  // 100 s in pieces of 40 s overlapping by 16 s (the longest window here): starts 0, 24, 48, 60.
  const a = await marked('allison-1', tokens[7]!, 2000, 10, 50);
  const b = await marked('allison-2', tokens[8]!, 7000, 10, 50);
  const x = new Float32Array(100 * rate);
  x.set(a);
  x.set(b, 50 * rate);
  const o = { ...opts, maxWindowSec: 16, pieceSec: 40 };
  const r = detect({ channels: [x], sampleRate: rate }, o);
  assert.equal(r.legs.map((l) => l.token).sort(), [tokens[7], tokens[8]].sort());
  for (const [token, from, to, session] of [[tokens[7]!, 0, 50, 2000], [tokens[8]!, 50, 100, 7000]] as const) {
    const leg = r.legs.find((l) => l.token === token)!;
    const covered = leg.segments.reduce((acc, sg) => acc + Math.max(0, Math.min(to, sg.endSec) - Math.max(from, sg.startSec)), 0);
    assert.ok(covered > 0.8 * (to - from), `${token} covers ${covered.toFixed(1)} s of ${from}-${to}`);
    for (const sg of leg.segments) {
      assert.ok(sg.startSec >= from - 1 && sg.endSec <= to + 1, `segment ${sg.startSec}-${sg.endSec} outside ${from}-${to}`);
      assert.ok(Math.abs(sg.sessionOffsetSec - (session + sg.startSec - from)) < 0.02, `offset ${sg.sessionOffsetSec} at ${sg.startSec}`);
    }
    // The leg's p-value is the best piece's, scanned alone at alpha / 4, times 4.
    const alone = [0, 24, 48, 60].map((s0) => detect({ channels: [x.subarray(s0 * rate, (s0 + 40) * rate)], sampleRate: rate }, { ...o, pieceSec: 1000, alpha: 1e-6 / 4 }));
    const best = Math.min(...alone.map((d) => d.scores.find((sc) => sc.token === token)!.pValue));
    assert.ok(Math.abs(leg.pValue - Math.min(1, 4 * best)) <= 1e-9 * leg.pValue, `${leg.pValue} vs 4 x ${best}`);
  }
  assert.is(r.durationSec, 100);
});

t('a wrong key finds nothing', async () => {
  const clip = await marked('allison-1', tokens[5]!, 0, 30, 10);
  const r = detect({ channels: [clip], sampleRate: rate }, { ...opts, key: keyFromBytes(new Uint8Array(32).map((_, i) => (i * 71 + 5) & 0xff)) });
  assert.is(r.legs.length, 0);
  for (const s of r.scores) assert.ok(s.pValue > 1e-3, `${s.token} p ${s.pValue}`);
});

t("another leg's token finds nothing (the marked leg is not a candidate)", async () => {
  const clip = await marked('allison-1', 'unregistered-leg', 0, 45, 10);
  const r = detect({ channels: [clip], sampleRate: rate }, opts);
  assert.is(r.legs.length, 0);
  // ...and the same clip with the leg registered is attributed.
  const r2 = detect({ channels: [clip], sampleRate: rate }, { ...opts, candidates: [...tokens, 'unregistered-leg'] });
  assert.equal(
    r2.legs.map((l) => l.token),
    ['unregistered-leg'],
  );
});

t('unmarked speech finds nothing', async () => {
  const x = (await speech('allison-3')).subarray(0, 12 * rate);
  const r = detect({ channels: [x], sampleRate: rate }, opts);
  assert.is(r.legs.length, 0);
  assert.ok(r.nullScale >= 1 && r.nullScale < 1.3, `null scale ${r.nullScale}`);
});

t('two legs spliced: both found, each with its own segment and session offset', async () => {
  const a = await marked('allison-1', tokens[1]!, 100, 60, 9);
  const b = await marked('allison-3', tokens[2]!, 2000, 20, 9);
  const clip = new Float32Array(a.length + b.length);
  clip.set(a, 0);
  clip.set(b, a.length);
  const r = detect({ channels: [clip], sampleRate: rate }, opts);
  assert.equal(r.legs.map((l) => l.token).sort(), [tokens[1], tokens[2]].sort());
  const segA = r.legs.find((l) => l.token === tokens[1])!.segments;
  const segB = r.legs.find((l) => l.token === tokens[2])!.segments;
  assert.is(segA.length, 1);
  assert.is(segB.length, 1);
  assert.ok(segA[0]!.startSec < 1.5 && Math.abs(segA[0]!.endSec - 9) < 1.5, `A ${segA[0]!.startSec}-${segA[0]!.endSec}`);
  assert.ok(Math.abs(segB[0]!.startSec - 9) < 1.5 && segB[0]!.endSec > 16.5, `B ${segB[0]!.startSec}-${segB[0]!.endSec}`);
  assert.ok(Math.abs(segA[0]!.sessionOffsetSec - (100 + segA[0]!.startSec)) <= 0.02, `A offset ${segA[0]!.sessionOffsetSec}`);
  assert.ok(Math.abs(segB[0]!.sessionOffsetSec - (2000 + segB[0]!.startSec - 9)) <= 0.02, `B offset ${segB[0]!.sessionOffsetSec}`);
});

t('a mix of two legs: both found', async () => {
  const a = await marked('allison-1', tokens[3]!, 10, 80, 10);
  const b = await marked('allison-2', tokens[4]!, 20, 10, 10);
  const mix = Float32Array.from(a, (v, i) => 0.6 * v + 0.6 * b[i]!);
  const r = detect({ channels: [mix], sampleRate: rate }, opts);
  assert.equal(r.legs.map((l) => l.token).sort(), [tokens[3], tokens[4]].sort());
});

t('replay speed 1.03 (pitch and time) is searched and reported', async () => {
  const y = await marked('allison-2', tokens[7]!, 300, 30, 12);
  // Play 3% fast: the same samples at a 3% higher rate, resampled back to 16 kHz.
  const fast = resample(y, Math.round(rate * 1.03), rate);
  const r = detect({ channels: [fast], sampleRate: rate }, opts);
  assert.equal(
    r.legs.map((l) => l.token),
    [tokens[7]],
  );
  assert.ok(Math.abs(r.legs[0]!.speed - 1.03) < 0.004, `speed ${r.legs[0]!.speed}`);
  assert.is(r.legs[0]!.speedKind, 'speed');
});

t('a clip over 320 s: segments of different pieces are reconciled on one timeline (a stretch whose own timecode is ambiguous gets its block from the other piece)', async () => {
  // 330 s of one leg's downlink: speech at 0-70 s (only in the first 256 s piece), silence (the
  // embedder marks none), speech at 290-320 s (only in the second piece, 74-330 s) with the odd
  // bands notched out, which removes half the timecode layer: that stretch's own block decode is
  // ambiguous, and only the first piece's segment, on the same timeline, can place it.
  const D = 330;
  const host = new Float32Array(D * rate);
  host.set((await speech('allison-1')).subarray(0, 70 * rate), 0);
  host.set((await speech('allison-2')).subarray(0, 30 * rate), 290 * rate);
  const y = embedAudio({ channels: [host], sampleRate: rate }, { key, token: tokens[1]!, offsetSec: 1000 }).channels[0]!;
  const a = 290 * rate;
  const b = 320 * rate;
  let n = 1;
  while (n < b - a) n *= 2;
  const fft = new RealFft(n);
  const buf = new Float64Array(n);
  for (let i = a; i < b; i++) buf[i - a] = y[i]!;
  const re = new Float64Array(n / 2 + 1);
  const im = new Float64Array(n / 2 + 1);
  fft.forward(buf, re, im);
  const edges = PROFILE_V1.bandEdgesHz;
  for (let i = 0; i <= n / 2; i++) {
    const f = (i * rate) / n;
    let keep = false;
    for (let k = 0; k < PROFILE_V1.bands; k += 2) if (f >= edges[k]! + 40 && f < edges[k + 1]! - 40) keep = true;
    if (!keep) (re[i] = 0), (im[i] = 0);
  }
  const out = new Float64Array(n);
  fft.inverse(re, im, out);
  for (let i = a; i < b; i++) y[i] = out[i - a]!;
  const o = { ...opts, cache: new DetectorCache() };
  const late = (segs: MarkSegment[], shift = 0): MarkSegment => segs.find((s) => s.startSec + shift > 280)!;
  // The second piece alone: the notched stretch is detected, its block is not sure.
  const alone = detect({ channels: [y.subarray(74 * rate)], sampleRate: rate }, { ...o, alpha: 1e-6 / 2, pieceSec: 1000 });
  const own = late(alone.legs.find((l) => l.token === tokens[1])!.segments, 74);
  assert.ok(own.timecodeConfidence < 0.9, `alone: confidence ${own.timecodeConfidence}`);
  // The whole clip (two pieces): the stretch joins the first piece's timeline.
  const whole = detect({ channels: [y], sampleRate: rate }, o);
  assert.is(whole.hypotheses > alone.hypotheses, true);
  const segs = whole.legs.find((l) => l.token === tokens[1])!.segments;
  const s = late(segs);
  assert.ok(Math.abs(s.sessionOffsetSec - (1000 + s.startSec)) < 0.02, `offset ${s.sessionOffsetSec} at ${s.startSec}`);
  assert.ok(s.timecodeConfidence >= 0.99, `confidence ${s.timecodeConfidence}`);
});

t('cross-fitted statistics: standardized under no mark (mean 0, variance 1 over 600 tokens on unmarked speech)', async () => {
  const x = (await speech('allison-2')).subarray(0, 30 * rate);
  const f = tileFeatures(analyzeClip(x, rate), { rate: 1, freqScale: 1, phaseSec: 0 });
  for (const which of [0, 1]) {
    let s1 = 0;
    let s2 = 0;
    const n = 600;
    for (let i = 0; i < n; i++) {
      const z = crossFitScore(new LegPattern(key, `null-${i}`), f, 0, f.chips, 1000 + 37 * i)[which]!;
      s1 += z;
      s2 += z * z;
    }
    const mean = s1 / n;
    const sd = Math.sqrt(s2 / n - mean * mean);
    if (process.env["EARMARK_TEST_VERBOSE"]) console.log({ which, mean, sd });
    // Standard errors at n = 600: mean 0.041, sd ~0.029.
    assert.ok(Math.abs(mean) < 0.15, `${which ? 't2s' : 's2t'} mean ${mean}`);
    assert.ok(sd > 0.88 && sd < 1.12, `${which ? 't2s' : 's2t'} sd ${sd}`);
  }
});

t('cross-fitted statistics: a tap whose other half is the tapped person talking over silence scores above the plain statistic', async () => {
  // 24 s of marked downlink speech in 3 s turns alternating with 3 s turns of unmarked own voice
  // (the downlink silent meanwhile, so the embedder marks nothing there).
  const down = (await speech('allison-1')).subarray(0, 24 * rate);
  const own = (await speech('allison-3')).subarray(0, 24 * rate);
  const turns = Float32Array.from(down, (v, i) => (Math.floor(i / (3 * rate)) % 2 === 0 ? v : 0));
  const y = embedAudio({ channels: [turns] , sampleRate: rate }, { key, token: tokens[2]!, offsetSec: 100 }).channels[0]!;
  const tap = Float32Array.from(y, (v, i) => (Math.floor(i / (3 * rate)) % 2 === 1 ? 1.3 * own[i]! : v));
  const f = tileFeatures(analyzeClip(tap, rate), { rate: 1, freqScale: 1, phaseSec: 0 });
  const pattern = new LegPattern(key, tokens[2]!);
  const n0 = Math.round(100 / PROFILE_V1.chipSec);
  // Plain statistic at the same alignment (self-normalized; sync variance from the fold).
  const K = PROFILE_V1.bands;
  const P = PROFILE_V1.period;
  const fold = new Float64Array(P * K);
  let c = 0;
  let vt = 0;
  for (let m = 0; m < f.chips; m++) {
    for (let k = 0; k < K; k++) {
      const v = f.r[m * K + k]!;
      if (v === 0 || PROFILE_V1.payloadBands.includes(k)) continue;
      const n = n0 + m;
      c += v * pattern.sign(n, k);
      if (((n + k) & 1) === 0) fold[(n % P) * K + k]! += v;
      else vt += v * v;
    }
  }
  const plain = c / Math.sqrt(fold.reduce((s, v) => s + v * v, 0) + vt);
  const [s2t, t2s] = crossFitScore(pattern, f, 0, f.chips, n0);
  if (process.env["EARMARK_TEST_VERBOSE"]) console.log({ plain, s2t, t2s });
  assert.ok(plain > 5, `plain ${plain}`);
  assert.ok(s2t > 1.05 * plain, `s2t ${s2t} vs plain ${plain}`);
  assert.ok(t2s > 1.0 * plain, `t2s ${t2s} vs plain ${plain}`);
});

t.run();
