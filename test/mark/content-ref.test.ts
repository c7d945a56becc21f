/**
 * The content reference and the detector's content check: the streaming writer is block-size
 * independent, the file format round-trips and refuses corruption, genuine content agrees and
 * other content does not, and a leg whose mark sits on content other than its downlink's is not
 * named even when the mark itself is perfect (embedded with the key: the strongest possible copy).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { CONTENT_MIN_AGREEMENT, ContentRefError, ContentReferenceWriter, DetectorCache, Embedder, PROFILE_V2, compareContent, contentReference, detect, embedAudio, keyFromBytes, mergeContentReferences, parseContentReference, serializeContentReference } from '../../lib/mark/index.js';
import { speech } from './speech.js';

const t = suite('mark/content-ref');
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 31 + 5) & 0xff));
const other = keyFromBytes(new Uint8Array(32).fill(9));
const tokens = Array.from({ length: 6 }, (_, i) => `cr-leg-${i}`);
const cache = new DetectorCache();

t('the streaming writer gives the same reference whatever the block sizes, at 48 kHz as at 16 kHz', async () => {
  for (const rate of [16000, 48000]) {
    const x = (await speech('allison-1', rate)).subarray(0, 8 * rate);
    const whole = contentReference(x, rate, { key, token: 'a', offsetSec: 100.123 });
    const w = new ContentReferenceWriter({ key, token: 'a', sampleRate: rate, offsetSec: 100.123 });
    for (let i = 0, b = 1; i < x.length; i += b, b = (b * 7 + 333) % 4099) w.push(x.subarray(i, Math.min(x.length, i + b)));
    const streamed = w.finish();
    assert.is(streamed.firstFrame, whole.firstFrame);
    assert.ok(whole.bits.length > 200, `${whole.bits.length} frames`);
    assert.equal([...streamed.bits], [...whole.bits]);
    assert.equal([...streamed.level], [...whole.level]);
    // Frame k is centred at k x 32 ms of session time: the first described frame's lagged window starts inside the stream.
    assert.ok((streamed.firstFrame - 2) * 0.032 - 0.032 >= 100.123 - 1e-9);
  }
});

t('the Embedder records the reference of what it emits (stereo: the channels\' mean), the same as a writer run after it', async () => {
  const rate = 48000;
  const x = (await speech('allison-1', rate)).subarray(0, 6 * rate);
  const left = x;
  const right = Float32Array.from(x, (v) => 0.5 * v);
  const e = new Embedder({ key, token: 'st', offsetSec: 40, sampleRate: rate, channels: 2, profile: PROFILE_V2, contentReference: true });
  const outs: Float32Array[][] = [];
  for (let i = 0; i < x.length; i += 5000) outs.push(e.process([left.subarray(i, i + 5000), right.subarray(i, i + 5000)]));
  assert.throws(() => e.contentReference(), /after flush/);
  outs.push(e.flush());
  const join = (c: number) => Float32Array.from(outs.flatMap((o) => [...o[c]!]));
  const l = join(0);
  const r = join(1);
  const mean = Float32Array.from(l, (v, i) => (v + r[i]!) / 2);
  const after = contentReference(mean, rate, { key, token: 'st', offsetSec: 40 });
  const rec = e.contentReference();
  assert.is(rec.firstFrame, after.firstFrame);
  assert.equal([...rec.bits], [...after.bits]);
});

t('the writer refuses non-finite samples, absurd rates and offsets, naming what is wrong', () => {
  const w = new ContentReferenceWriter({ key, token: 'n', sampleRate: 16000, offsetSec: 0 });
  w.push(new Float32Array(100));
  assert.throws(() => w.push(Float32Array.of(0, Number.NaN)), /sample 101 is not a finite number/);
  assert.throws(() => new ContentReferenceWriter({ key, token: 'n', sampleRate: 1e9, offsetSec: 0 }), /sample rate/);
  assert.throws(() => new ContentReferenceWriter({ key, token: 'n', sampleRate: 16000, offsetSec: -1 }), /session offset/);
});

t('the file round-trips; truncation, a flipped byte and a wrong format are refused with a reason', async () => {
  const x = (await speech('allison-1', 16000)).subarray(0, 4 * 16000);
  const ref = contentReference(x, 16000, { key, token: 'leg-x', offsetSec: 3 });
  const bytes = serializeContentReference(ref);
  const back = parseContentReference(bytes);
  assert.equal({ ...back, bits: [...back.bits], level: [...back.level] }, { ...ref, bits: [...ref.bits], level: [...ref.level] });
  assert.throws(() => parseContentReference(bytes.subarray(0, bytes.length - 5)), (e: unknown) => e instanceof ContentRefError && /truncated/.test((e as Error).message));
  const flipped = Uint8Array.from(bytes);
  flipped[bytes.length - 40]! ^= 1;
  assert.throws(() => parseContentReference(flipped), (e: unknown) => e instanceof ContentRefError && /corrupt/.test((e as Error).message));
  assert.throws(() => parseContentReference(new TextEncoder().encode('{"format":"other"}\n')), (e: unknown) => e instanceof ContentRefError && /not a content reference/.test((e as Error).message));
  assert.throws(() => parseContentReference(new Uint8Array(0)), (e: unknown) => e instanceof ContentRefError);
});

t('references of one leg written in chunks merge: frames where written, the seam silent, conflicts refused', async () => {
  const x = (await speech('allison-1', 16000)).subarray(0, 10 * 16000);
  const whole = contentReference(x, 16000, { key, token: 'm', offsetSec: 20 });
  const a = contentReference(x.subarray(0, 4 * 16000), 16000, { key, token: 'm', offsetSec: 20 });
  const b = contentReference(x.subarray(4 * 16000), 16000, { key, token: 'm', offsetSec: 24 });
  const merged = mergeContentReferences([b, a]);
  assert.is(merged.firstFrame, whole.firstFrame);
  assert.is(merged.firstFrame + merged.bits.length, whole.firstFrame + whole.bits.length);
  let silent = 0;
  for (let i = 0; i < merged.bits.length; i++) {
    if (merged.level[i] === -127) silent++;
    else {
      assert.is(merged.bits[i], whole.bits[i], `frame ${i}`);
      assert.is(merged.level[i], whole.level[i]);
    }
  }
  // The seam: frames whose window or lagged frame straddles the chunk boundary (a few, never compared).
  assert.ok(silent >= 1 && silent <= 5, `${silent} silent frames at the seam`);
  assert.throws(() => mergeContentReferences([a, { ...b, token: 'other' }]), (e: unknown) => e instanceof ContentRefError);
  const conflicting = { ...a, bits: Uint8Array.from(a.bits, (v) => v ^ 1) };
  assert.throws(() => mergeContentReferences([a, conflicting]), (e: unknown) => e instanceof ContentRefError && /overlap/.test((e as Error).message));
  assert.equal(mergeContentReferences([a, a]).bits, a.bits);
});

t('agreement: the same audio ~1, other speech and the right audio at a wrong session time ~0.5', async () => {
  const a = (await speech('allison-2', 16000)).subarray(0, 20 * 16000);
  const b = (await speech('allison-3', 16000)).subarray(0, 20 * 16000);
  const ref = contentReference(a, 16000, { key, token: 'a', offsetSec: 50 });
  const seg = (offset: number) => [{ startSec: 2, endSec: 18, sessionOffsetSec: offset, speed: 1 }];
  const same = compareContent(a, ref, key, seg(52));
  assert.ok(same.agreement > 0.97 && same.bits > 2000, `same ${same.agreement} over ${same.bits}`);
  const otherSpeech = compareContent(b, ref, key, seg(52));
  assert.ok(Math.abs(otherSpeech.agreement - 0.5) < 0.05, `other ${otherSpeech.agreement}`);
  const late = compareContent(a, ref, key, seg(55));
  assert.ok(Math.abs(late.agreement - 0.5) < 0.05, `3 s late ${late.agreement}`);
  // A gain and a tilt of the whole spectrum change nothing (the double difference cancels them).
  const tilted = Float32Array.from(a, (v, i) => 0.3 * v + (i > 0 ? 0.2 * a[i - 1]! : 0));
  assert.ok(compareContent(tilted, ref, key, seg(52)).agreement > 0.95);
  // Another key's projections read unrelated bits: a reference is tied to its key.
  assert.throws(() => compareContent(a, ref, other, seg(52)), (e: unknown) => e instanceof ContentRefError);
});

t('detect: the leg is named on its own content, and not on other content carrying its perfect mark', async () => {
  const rate = 16000;
  const offset = 321.25;
  const own = (await speech('allison-2', rate)).subarray(2 * rate, 14 * rate);
  const foreign = (await speech('allison-3', rate)).subarray(2 * rate, 14 * rate);
  const mark = (x: Float32Array) => embedAudio({ channels: [x], sampleRate: rate }, { key, token: tokens[2]!, offsetSec: offset, profile: PROFILE_V2 }).channels[0]!;
  const downlink = mark(own);
  const refs = new Map([[tokens[2]!, contentReference(downlink, rate, { key, token: tokens[2]!, offsetSec: offset })]]);
  const opts = { key, candidates: tokens, profile: PROFILE_V2, cache, contentReferences: refs };
  const genuine = detect({ channels: [downlink], sampleRate: rate }, opts);
  assert.equal(genuine.legs.map((l) => l.token), [tokens[2]]);
  assert.is(genuine.legs[0]!.content?.verdict, 'consistent');
  assert.ok(genuine.legs[0]!.content!.agreement > 0.95, JSON.stringify(genuine.legs[0]!.content) + JSON.stringify(genuine.legs[0]!.segments));
  assert.is(genuine.forgery?.suspected, false);
  // The same session time's mark, embedded with the key itself onto other speech: found, and rejected.
  const forged = detect({ channels: [mark(foreign)], sampleRate: rate }, opts);
  assert.equal(forged.legs, []);
  assert.equal(forged.contentRejected?.map((l) => l.token), [tokens[2]]);
  const rej = forged.contentRejected![0]!;
  assert.is(rej.content?.verdict, 'inconsistent');
  assert.ok(rej.content!.agreement < CONTENT_MIN_AGREEMENT, `${rej.content!.agreement}`);
  assert.ok(rej.pValue <= 1e-6, 'the mark itself was found');
  assert.is(forged.forgery?.suspected, true);
  assert.match(forged.forgery!.reason, /copied onto other audio/);
  // Without references the same clip names the leg (and says the check was not made).
  const blind = detect({ channels: [mark(foreign)], sampleRate: rate }, { ...opts, contentReferences: new Map() });
  assert.equal(blind.legs.map((l) => l.token), [tokens[2]]);
  assert.is(blind.legs[0]!.content, undefined);
});

t('detect: other speech inserted into the leg\'s own recording with the mark carried on is located as a content mismatch', async () => {
  const rate = 16000;
  const offset = 640;
  const own = (await speech('allison-2', rate)).subarray(0, 30 * rate);
  const foreign = (await speech('allison-3', rate)).subarray(0, 30 * rate);
  const mark = (x: Float32Array) => embedAudio({ channels: [x], sampleRate: rate }, { key, token: tokens[4]!, offsetSec: offset, profile: PROFILE_V2 }).channels[0]!;
  const downlink = mark(own);
  const refs = new Map([[tokens[4]!, contentReference(downlink, rate, { key, token: tokens[4]!, offsetSec: offset })]]);
  // The forger's best case again: the mark of the same session times, on other speech, in 12-20 s.
  const forged = mark(foreign);
  const clip = Float32Array.from(downlink);
  clip.set(forged.subarray(12 * rate, 20 * rate), 12 * rate);
  const r = detect({ channels: [clip], sampleRate: rate }, { key, candidates: tokens, profile: PROFILE_V2, cache, contentReferences: refs });
  assert.equal(r.legs.map((l) => l.token), [tokens[4]]);
  const c = r.legs[0]!.content!;
  assert.is(c.verdict, 'consistent');
  assert.is(c.mismatches?.length, 1, JSON.stringify(c));
  const m = c.mismatches![0]!;
  // Located to the 5 s window: the flagged stretch overlaps 12-20 s and lies within 5 s of it.
  assert.ok(m.startSec >= 7 && m.startSec <= 16 && m.endSec >= 16 && m.endSec <= 25, JSON.stringify(m));
  // The untouched recording has none.
  const clean = detect({ channels: [downlink], sampleRate: rate }, { key, candidates: tokens, profile: PROFILE_V2, cache, contentReferences: refs });
  assert.is(clean.legs[0]!.content!.mismatches, undefined);
});

t('detect refuses a reference made with another key or filed under another token', async () => {
  const x = (await speech('allison-1', 16000)).subarray(0, 5 * 16000);
  const wrongKey = new Map([[tokens[0]!, contentReference(x, 16000, { key: other, token: tokens[0]!, offsetSec: 0 })]]);
  assert.throws(() => detect({ channels: [x], sampleRate: 16000 }, { key, candidates: tokens, profile: PROFILE_V2, cache, contentReferences: wrongKey }), (e: unknown) => e instanceof InputError && /key/.test((e as Error).message));
  const misfiled = new Map([[tokens[0]!, contentReference(x, 16000, { key, token: tokens[1]!, offsetSec: 0 })]]);
  assert.throws(() => detect({ channels: [x], sampleRate: 16000 }, { key, candidates: tokens, profile: PROFILE_V2, cache, contentReferences: misfiled }), (e: unknown) => e instanceof InputError);
});

t.run();
