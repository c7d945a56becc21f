import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { detect } from '../../lib/mark/detect/index.js';
import { checkToken, keyFromBytes } from '../../lib/mark/keys.js';
import { Embedder, embedAudio } from '../../lib/mark/embed.js';
import { LegPattern, decoyToken } from '../../lib/mark/pattern.js';
import { PROFILE_V1, PROFILE_V2 } from '../../lib/mark/profile.js';
import { seededRandom } from '../helpers/tmp.js';
import { snrDb, speech } from './speech.js';

const t = suite('mark/embed');
// Fixed keys keep the test deterministic (a random key changes every z).
const key = keyFromBytes(new Uint8Array(32).map((_, i) => (i * 53 + 3) & 0xff));

t('streaming with random block sizes equals file embedding, bit for bit (stereo, 44.1 kHz)', async () => {
  const mono = (await speech('allison-1', 44100)).subarray(0, 44100 * 6);
  const right = Float32Array.from(mono, (v, i) => 0.5 * v + 0.1 * Math.sin(i / 9));
  const audio = { channels: [mono, right], sampleRate: 44100 };
  const file = embedAudio(audio, { key, token: 'leg-1', offsetSec: 12.5 });
  const emb = new Embedder({ key, token: 'leg-1', offsetSec: 12.5, sampleRate: 44100, channels: 2 });
  const rnd = seededRandom(3);
  const out: Float32Array[][] = [[], []].map(() => []) as Float32Array[][];
  for (let i = 0; i < mono.length; ) {
    const n = Math.floor(rnd() * 5000);
    const parts = emb.process([mono.subarray(i, i + n), right.subarray(i, i + n)]);
    out[0]!.push(parts[0]!);
    out[1]!.push(parts[1]!);
    i += n;
  }
  const last = emb.flush();
  out[0]!.push(last[0]!);
  out[1]!.push(last[1]!);
  for (let c = 0; c < 2; c++) {
    const joined = Float32Array.from(out[c]!.flatMap((p) => Array.from(p)));
    assert.is(joined.length, mono.length);
    assert.ok(Buffer.from(joined.buffer).equals(Buffer.from(file.channels[c]!.buffer)), `channel ${c} differs`);
  }
  // Each channel got its own mark (its own masking-shaped strength).
  for (let c = 0; c < 2; c++) {
    let diff = 0;
    for (let i = 0; i < mono.length; i++) diff += (file.channels[c]![i]! - audio.channels[c]![i]!) ** 2;
    assert.ok(diff > 0, `channel ${c} marked`);
  }
});

t('latency is at most 40 ms from 8 to 48 kHz, and output length equals input length', () => {
  for (const rate of [8000, 11025, 16000, 22050, 32000, 44100, 48000]) {
    const emb = new Embedder({ key, token: 'x', sampleRate: rate, channels: 1 });
    assert.ok(emb.latencySamples / rate <= 0.04, `${rate}: ${emb.latencySamples}`);
    const x = new Float32Array(rate).map((_, i) => 0.1 * Math.sin(i * 0.05));
    const first = emb.process([x])[0]!;
    assert.is(first.length, rate - emb.latencySamples);
    assert.is(first.length + emb.flush()[0]!.length, rate);
  }
});

t('hard-panned stereo: the silent channel gets nothing (masking and the silence gate are per channel)', async () => {
  const x = (await speech('allison-1')).subarray(0, 16000 * 10);
  const silent = new Float32Array(x.length);
  for (const profile of [PROFILE_V1, PROFILE_V2]) {
    const y = embedAudio({ channels: [x, silent], sampleRate: 16000 }, { key, token: 'panned', profile });
    assert.ok(y.channels[1]!.every((v) => v === 0), `${profile.name}: the silent channel is untouched`);
    assert.ok(snrDb(x, y.channels[0]!) >= 25, `${profile.name}: the speech channel is marked at >= 25 dB SNR`);
  }
});

t('the timeline reach is enforced: offsets the pattern cannot represent are refused', () => {
  const audio = { channels: [new Float32Array(16000)], sampleRate: 16000 };
  for (const profile of [PROFILE_V1, PROFILE_V2]) {
    assert.throws(() => new Embedder({ key, token: 't', sampleRate: 16000, channels: 1, offsetSec: profile.reachSec, profile }), (e: Error) => e instanceof InputError && e.message.startsWith('offsetSec: '));
    assert.throws(() => embedAudio(audio, { key, token: 't', offsetSec: profile.reachSec - 0.5, profile }), (e: Error) => e instanceof InputError);
    assert.is(embedAudio(audio, { key, token: 't', offsetSec: profile.reachSec - 1, profile }).channels[0]!.length, 16000);
  }
  // v1's timeline is 13.38 h: 50,000 s (the offset a v1 embed once accepted and reported as 1,818.784 s) is refused.
  assert.throws(() => embedAudio(audio, { key, token: 't', offsetSec: 50000, profile: PROFILE_V1 }), (e: Error) => e instanceof InputError);
  assert.is(PROFILE_V2.reachSec, PROFILE_V1.reachSec);
});

t('silence and near-silence (below -60 dBFS) are left untouched', () => {
  const rate = 16000;
  const x = new Float32Array(rate * 2);
  const rnd = seededRandom(11);
  for (let i = rate; i < x.length; i++) x[i] = (rnd() - 0.5) * 2e-4; // about -74 dBFS
  const y = embedAudio({ channels: [x], sampleRate: rate }, { key, token: 'quiet' }).channels[0]!;
  for (let i = 0; i < x.length; i++) assert.is(y[i], x[i]);
});

t('SNR on speech is at least 25 dB', async () => {
  const x = (await speech('allison-2')).subarray(0, 16000 * 30);
  const y = embedAudio({ channels: [x], sampleRate: 16000 }, { key, token: 'leg-2' }).channels[0]!;
  const snr = snrDb(x, y);
  assert.ok(snr >= 25, `SNR ${snr.toFixed(2)} dB`);
});

t('the library refuses tokens a leg cannot have (decoys carry control characters), whoever calls it', () => {
  const audio = { channels: [new Float32Array(1600)], sampleRate: 16000 };
  for (const token of ['', '\u0000earmark-decoy/0', 'tab\tin', 'x'.repeat(129)]) {
    assert.throws(() => new Embedder({ key, token, sampleRate: 16000, channels: 1 }), (e: Error) => e instanceof InputError && e.message.startsWith('token: '), JSON.stringify(token));
    assert.throws(() => embedAudio(audio, { key, token }), (e: Error) => e instanceof InputError, JSON.stringify(token));
    assert.throws(() => new LegPattern(key, token), (e: Error) => e instanceof InputError, JSON.stringify(token));
    assert.throws(() => detect(audio, { key, candidates: ['fine', token] }), (e: Error) => e instanceof InputError && e.message.startsWith('candidates: '), JSON.stringify(token));
  }
  // Decoys are reachable only through the detector's own reference, never as a string.
  assert.is(new LegPattern(key, { decoy: 0 }).token, decoyToken(0));
  assert.is(checkToken('x'.repeat(128)).length, 128);
});

t.run();
