/**
 * Mark v2's detector: detection at the sample rates a bridge embeds at (8, 16, 44.1, 48 kHz; the
 * detector analyses at 16 kHz), the known answer of its p-values (bound x hypotheses, the count
 * linear in the candidates and in the two statistics), the layers' consistency check, and the
 * scan's division of alpha among the profiles it searches.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DetectorCache, detect } from '../../lib/mark/detect/index.js';
import { LEG_STATISTICS } from '../../lib/mark/detect/leg-statistic.js';
import { embedAudio } from '../../lib/mark/embed.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { PROFILE_V1, PROFILE_V2 } from '../../lib/mark/profile.js';
import { boundedPValue, pValueStatement, signSumTail } from '../../lib/mark/stats.js';
import { speech } from './speech.js';

const t = suite('mark/detect-v2');
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 29 + 11) & 0xff));
const tokens = Array.from({ length: 8 }, (_, i) => `v2-leg-${i}`);
const cache = new DetectorCache();
const opts = { key, candidates: tokens, profile: PROFILE_V2, cache };

async function markedAt(rate: number, token: string, offsetSec: number, seconds: number): Promise<Float32Array> {
  const x = (await speech('allison-2', rate)).subarray(3 * rate, (3 + seconds) * rate);
  return embedAudio({ channels: [x], sampleRate: rate }, { key, token, offsetSec, profile: PROFILE_V2 }).channels[0]!;
}

for (const rate of [8000, 16000, 44100, 48000]) {
  t(`embedded at ${rate} Hz: the right leg among 8 is named at its session offset (+-20 ms), and no other`, async () => {
    const offset = 777.5;
    const y = await markedAt(rate, tokens[3]!, offset, 12);
    const r = detect({ channels: [y], sampleRate: rate }, opts);
    assert.is(r.profile, 'v2');
    assert.is(r.pValueBasis, 'sign-sum-bound');
    assert.equal(r.legs.map((l) => l.token), [tokens[3]]);
    const leg = r.legs[0]!;
    assert.is(leg.profile, 'v2');
    assert.ok(leg.pValue <= 1e-6, `p ${leg.pValue}`);
    const seg = leg.segments[0]!;
    const expected = offset + seg.startSec;
    assert.ok(Math.abs(seg.sessionOffsetSec - expected) <= 0.02, `offset ${seg.sessionOffsetSec} vs ${expected}`);
    assert.is(r.forgery?.suspected, false);
  });
}

t('p-values are exactly the sign-sum bound x the hypothesis count, and the count is candidates x places x 2', async () => {
  const y = await markedAt(16000, tokens[1]!, 55, 10);
  const r8 = detect({ channels: [y], sampleRate: 16000 }, opts);
  const r4 = detect({ channels: [y], sampleRate: 16000 }, { ...opts, candidates: tokens.slice(0, 4) });
  // Known answer: every candidate's p-value from its score (a dropped factor changes it): the
  // bound x the count x 2 (alpha shared with the second search), the count the fast path's or, for
  // a candidate scored better at the named leg's place, the named-place stage's.
  assert.equal(r8.legs.map((l) => l.token), [tokens[1]]);
  assert.is(r8.legs[0]!.pValue, Math.min(1, 2 * r8.hypotheses * signSumTail(r8.legs[0]!.score)));
  assert.is(r8.legs[0]!.pValueMultiplier, 2 * r8.hypotheses);
  assert.is(r8.legs[0]!.search, 'fast-path');
  assert.is(r8.namedPlaces?.hypotheses, 8 * r8.namedPlaces!.places * LEG_STATISTICS);
  for (const s of r8.scores) {
    const fast = Math.min(1, 2 * boundedPValue(s.score, r8.hypotheses));
    const named = Math.min(1, 2 * boundedPValue(s.score, r8.namedPlaces!.hypotheses));
    assert.ok(s.pValue === fast || s.pValue === named, `${s.token}: p ${s.pValue} is neither ${fast} nor ${named}`);
  }
  // The count: the places do not depend on the candidates (the key layer proposes them).
  assert.is(r8.hypotheses % (8 * LEG_STATISTICS), 0);
  assert.is(r8.hypotheses, 2 * r4.hypotheses);
  const places = r8.hypotheses / (8 * LEG_STATISTICS);
  assert.ok(places >= 16, `places ${places}: at least the blocks tried at the best proposal`);
  // The same leg scores the same in both runs, and its p-value pays for the larger family.
  const a = r8.scores.find((s) => s.token === tokens[1])!;
  const b = r4.scores.find((s) => s.token === tokens[1])!;
  assert.is(a.score, b.score);
  if (b.pValue < 0.5) assert.ok(Math.abs(a.pValue / b.pValue - 2) < 1e-9, `${a.pValue} vs ${b.pValue}`);
});

t('colluders: an average of three legs names all three, the weakest at the place where another was named, with that stage\'s count', async () => {
  const rate = 16000;
  // 7 s of speech, three legs' copies averaged (no codec): each leg's own layer at a third of its
  // strength. The weakest is below the fast path's threshold (z 5.9 against ~6.2 for 256 hypotheses)
  // and above the named-place stage's (~5.6 for 16): a detector change may move it either way, and
  // then the case needs re-choosing (offsets 999.125 and 1500.5 of 0-8 s also exercise the stage
  // today; with the key layer's alignment refined but not yet regressed out, 301.25 was all fast path).
  const x = (await speech('allison-3', rate)).subarray(1 * rate, 8 * rate);
  const colluders = [tokens[2]!, tokens[5]!, tokens[6]!];
  const copies = colluders.map((token) => embedAudio({ channels: [x], sampleRate: rate }, { key, token, offsetSec: 301.25, profile: PROFILE_V2 }).channels[0]!);
  const y = Float32Array.from(x, (_, j) => (copies[0]![j]! + copies[1]![j]! + copies[2]![j]!) / 3);
  const r = detect({ channels: [y], sampleRate: rate }, opts);
  assert.equal([...r.legs.map((l) => l.token)].sort(), [...colluders].sort());
  const late = r.legs.filter((l) => l.search === 'named-place');
  assert.ok(late.length >= 1, `searches ${r.legs.map((l) => l.search).join(', ')}`);
  const np = r.namedPlaces!;
  assert.is(np.legs, late.length);
  assert.is(np.hypotheses, 8 * np.places * LEG_STATISTICS);
  for (const l of late) {
    assert.is(l.pValue, Math.min(1, 2 * np.hypotheses * signSumTail(l.score)));
    assert.is(l.pValueMultiplier, 2 * np.hypotheses);
    assert.ok(Math.abs(l.segments[0]!.sessionOffsetSec - (301.25 + l.segments[0]!.startSec)) <= 0.02, `offset ${l.segments[0]!.sessionOffsetSec}`);
  }
});

t('the statement of a v2 p-value names the bound, rounds up, and leads with the validated range below it', () => {
  const H = 1000;
  const z = 3.9;
  const p = boundedPValue(z, H);
  const s = pValueStatement(p, z, 'sign-sum-bound', H);
  assert.match(s, /^<= \d(e-?\d+)? \(sign-sum bound/);
  const printed = Number(s.slice(3).split(' ')[0]);
  assert.ok(printed >= p && printed <= 10 * p, `${printed} vs ${p}`);
  assert.match(s, /1000 hypotheses/);
  const deep = pValueStatement(boundedPValue(12, H), 12, 'sign-sum-bound', H);
  assert.match(deep, /^< \d(e-?\d+)? validated empirically; <= \d(e-?\d+)? by the sign-sum bound/);
  assert.match(pValueStatement(3e-9, 9, 'normal-approximation'), /normal approximation/);
  // Beyond double precision the bound is computed in logarithms: z 60 over 1e6 hypotheses is
  // <= 1e6 x exp(-1800) = 10^(6 - 781.7...), never "0".
  assert.match(pValueStatement(0, 60, 'sign-sum-bound', 1e6), /<= 2e-776 by the sign-sum bound/);
});

t("the layers' consistency check: the key layer with no candidate's own layer is flagged and names no leg", async () => {
  const y = await markedAt(16000, 'v2-not-a-candidate', 300, 12);
  const r = detect({ channels: [y], sampleRate: 16000 }, opts);
  assert.is(r.legs.length, 0);
  assert.ok(r.keyLayer && r.keyLayer.pValue <= 1e-6, `key layer p ${r.keyLayer?.pValue}`);
  assert.is(r.forgery?.suspected, true);
  assert.match(r.forgery!.reason, /key-level layer is present/);
  // Unmarked speech: neither layer, nothing suspected.
  const x = (await speech('allison-2')).subarray(3 * 16000, 15 * 16000);
  const u = detect({ channels: [x], sampleRate: 16000 }, opts);
  assert.is(u.legs.length, 0);
  assert.is(u.forgery?.suspected, false);
});

t('v1 and v2 do not see each other: a v2 mark names no leg under v1, a v1 mark none under v2', async () => {
  const y2 = await markedAt(16000, tokens[2]!, 40, 12);
  assert.is(detect({ channels: [y2], sampleRate: 16000 }, { ...opts, profile: PROFILE_V1 }).legs.length, 0);
  const x = (await speech('allison-2')).subarray(3 * 16000, 15 * 16000);
  const y1 = embedAudio({ channels: [x], sampleRate: 16000 }, { key, token: tokens[2]!, offsetSec: 40, profile: PROFILE_V1 }).channels[0]!;
  const r1 = detect({ channels: [y1], sampleRate: 16000 }, { ...opts, profile: PROFILE_V1 });
  assert.equal(r1.legs.map((l) => l.token), [tokens[2]]);
  assert.is(r1.legs[0]!.profile, 'v1');
  assert.is(detect({ channels: [y1], sampleRate: 16000 }, opts).legs.length, 0);
});

t('a mark whose key layer was stripped: the exhaustive search over the legs\' spans names the leg at its offset', async () => {
  // The key layer removed perfectly (amplitude 0): the fast path has nothing to propose.
  const legOnly = { ...PROFILE_V2, layerAmplitudes: { key: 0, leg: PROFILE_V2.layerAmplitudes.leg } };
  const x = (await speech('allison-2')).subarray(3 * 16000, 23 * 16000);
  const offset = 611.25;
  const y = embedAudio({ channels: [x], sampleRate: 16000 }, { key, token: tokens[6]!, offsetSec: offset, profile: legOnly }).channels[0]!;
  const clip = { channels: [y.subarray(16000)], sampleRate: 16000 };
  const cands = tokens.slice(4, 8);
  const fast = detect(clip, { ...opts, candidates: cands });
  assert.is(fast.legs.length, 0);
  assert.is(fast.exhaustive, undefined);
  const legSpans = Object.fromEntries(cands.map((t) => [t, { fromSec: 0, toSec: 1200 }]));
  const r = detect(clip, { ...opts, candidates: cands, legSpans });
  assert.equal(r.legs.map((l) => l.token), [tokens[6]]);
  const leg = r.legs[0]!;
  assert.ok(leg.pValue <= 1e-6, `p ${leg.pValue}`);
  const seg = leg.segments[0]!;
  assert.ok(Math.abs(seg.sessionOffsetSec - (offset + 1 + seg.startSec)) <= 0.02, `offset ${seg.sessionOffsetSec}`);
  // The count: every 32 ms offset of the four 20-minute spans at 8 phases (the window inside the span).
  assert.ok(r.exhaustive && r.exhaustive.hypotheses > 4 * 8 * (1200 - 20) / 0.032 && r.exhaustive.hypotheses <= 4 * 8 * (1200 / 0.032 + 1), `${r.exhaustive?.hypotheses}`);
  // Its p-value: the bound x (hypotheses x 2, alpha shared with the fast path).
  assert.is(leg.pValueMultiplier, 2 * r.exhaustive!.hypotheses);
  // A span that does not hold the offset finds nothing.
  const wrong = Object.fromEntries(cands.map((t) => [t, { fromSec: 700, toSec: 1900 }]));
  assert.is(detect(clip, { ...opts, candidates: cands, legSpans: wrong }).legs.length, 0);
  // Bad spans are refused, naming the option.
  assert.throws(() => detect(clip, { ...opts, candidates: cands, legSpans: { [cands[0]!]: { fromSec: 5, toSec: 2 } } }), /legSpans/);
});

t.run();
