import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { embedAudio } from '../../lib/mark/embed.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { decodePayload } from '../../lib/mark/payload-decode.js';
import { crc8, payloadId, payloadSymbols } from '../../lib/mark/payload-layer.js';
import { speech } from './speech.js';

const t = suite('mark/payload');
const rate = 16000;
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 17 + 5) & 0xff));

t('CRC-8 (poly 0x07) check value; ids are 32-bit HMACs of the token, stable and key-bound', () => {
  assert.is(crc8(new TextEncoder().encode('123456789')), 0xf4);
  const id = payloadId(key, 'leg-x');
  assert.match(id, /^[0-9a-f]{8}$/);
  assert.is(payloadId(key, 'leg-x'), id);
  assert.is.not(payloadId(key, 'leg-y'), id);
  assert.is.not(payloadId(keyFromBytes(new Uint8Array(32).fill(1)), 'leg-x'), id);
  const sym = payloadSymbols(id);
  assert.is(sym.length, 5);
  assert.is(sym[4], crc8(sym.subarray(0, 4)));
  assert.throws(() => payloadSymbols('xyz'), /8 hex digits/);
});

t('reads the payload id blindly from 30 s; nothing from unmarked speech or another key', async () => {
  const x = (await speech('allison-1')).subarray(40 * rate, 70 * rate);
  const y = embedAudio({ channels: [x], sampleRate: rate }, { key, token: 'leg-x', offsetSec: 777.7 }).channels[0]!;
  const r = decodePayload({ channels: [y], sampleRate: rate }, { key });
  assert.is(r.payloadId, payloadId(key, 'leg-x'));
  assert.ok(r.crcOk);
  assert.ok(r.pilotPValue < 1e-8, `pilot p ${r.pilotPValue}`);
  const none = decodePayload({ channels: [x], sampleRate: rate }, { key });
  assert.is(none.payloadId, null);
  assert.ok(none.pilotPValue > 1e-4, `unmarked pilot p ${none.pilotPValue}`);
  assert.is(decodePayload({ channels: [y], sampleRate: rate }, { key: keyFromBytes(new Uint8Array(32).fill(9)) }).payloadId, null);
});

t("an average of two legs' copies long enough for both legs' symbols reads as a mixture: no id", async () => {
  const x = (await speech('allison-1')).subarray(10 * rate, 130 * rate);
  const a = embedAudio({ channels: [x], sampleRate: rate }, { key, token: 'leg-x', offsetSec: 500 }).channels[0]!;
  const b = embedAudio({ channels: [x], sampleRate: rate }, { key, token: 'leg-y', offsetSec: 500 }).channels[0]!;
  const single = decodePayload({ channels: [a], sampleRate: rate }, { key });
  assert.is(single.payloadId, payloadId(key, 'leg-x'));
  assert.is(single.mixture, false);
  assert.is(single.symbolsSignificant, true);
  const avg = Float32Array.from(a, (v, i) => 0.5 * (v + b[i]!));
  // Long enough for both legs' symbols to be significant: read as a mixture.
  const r = decodePayload({ channels: [avg], sampleRate: rate }, { key });
  assert.ok(r.pilotPValue < 1e-8, `pilot p ${r.pilotPValue}`);
  assert.is(r.mixture, true);
  assert.is(r.payloadId, null);
  // 40 s: each leg's symbols too weak to be significant; not recognised as a mixture (a stated limit).
  const short = decodePayload({ channels: [avg.subarray(0, 40 * rate)], sampleRate: rate }, { key });
  assert.is(short.symbolsSignificant, false);
});

t('long clips are read in overlapping pieces: the marked piece is found and its p-value pays for the pieces', async () => {
  // 200 s: pieces [0, 128) and [72, 200); only the last 50 s are marked (inside the second piece).
  const a = await speech('allison-1');
  const b = await speech('allison-2');
  const x = new Float32Array(200 * rate);
  x.set(a.subarray(0, Math.min(a.length, 150 * rate)));
  const tail = embedAudio({ channels: [b.subarray(0, 50 * rate)], sampleRate: rate }, { key, token: 'leg-long', offsetSec: 5000 }).channels[0]!;
  x.set(tail, 150 * rate);
  const whole = decodePayload({ channels: [x], sampleRate: rate }, { key });
  const piece = decodePayload({ channels: [x.subarray(72 * rate)], sampleRate: rate }, { key, pilotAlpha: 1e-4 / 2 });
  assert.is(whole.payloadId, payloadId(key, 'leg-long'));
  assert.is(piece.payloadId, whole.payloadId);
  assert.is(whole.hypotheses, 2 * piece.hypotheses);
  assert.ok(Math.abs(whole.pilotPValue - Math.min(1, 2 * piece.pilotPValue)) <= 1e-12 * Math.max(1e-300, whole.pilotPValue), `${whole.pilotPValue} vs 2 x ${piece.pilotPValue}`);
  // The unmarked head alone yields nothing.
  assert.is(decodePayload({ channels: [x.subarray(0, 140 * rate)], sampleRate: rate }, { key }).payloadId, null);
});

t.run();
