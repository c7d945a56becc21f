import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { embedAudio } from '../../lib/mark/embed.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { crc8, decodePayload, payloadId, payloadSymbols } from '../../lib/mark/payload.js';
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
  const r = decodePayload(y, rate, key);
  assert.is(r.payloadId, payloadId(key, 'leg-x'));
  assert.ok(r.crcOk);
  assert.ok(r.pilotPValue < 1e-8, `pilot p ${r.pilotPValue}`);
  const none = decodePayload(x, rate, key);
  assert.is(none.payloadId, null);
  assert.ok(none.pilotPValue > 1e-4, `unmarked pilot p ${none.pilotPValue}`);
  assert.is(decodePayload(y, rate, keyFromBytes(new Uint8Array(32).fill(9))).payloadId, null);
});

t.run();
