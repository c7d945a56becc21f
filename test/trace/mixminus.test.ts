import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { embedAudio } from '../../lib/mark/embed.js';
import { detect } from '../../lib/mark/detect/index.js';
import { keyFromBytes } from '../../lib/mark/keys.js';
import { speechStretches, unmarkedSpeech } from '../../lib/trace/mixminus.js';
import { tone } from '../helpers/tmp.js';

const t = suite('trace/mixminus');
const fixture = (name: string) => new URL(`../../fixtures/speech/${name}`, import.meta.url).pathname;
const R = 16000;
// Fixed keys keep the tests deterministic.
const fixedKey = (seed: number) => keyFromBytes(new Uint8Array(32).map((_, i) => (i * 29 + seed) & 0xff));

t('speechStretches finds bursts above the floor and drops short ones', () => {
  const x = new Float32Array(R * 10);
  x.set(tone(300, R, 3, 0.3), R * 1);
  x.set(tone(300, R, 1, 0.3), R * 6);
  for (let i = 0; i < x.length; i++) x[i]! += 1e-4 * Math.sin(i * 1.7);
  const s = speechStretches(x, R);
  assert.is(s.length, 1);
  assert.ok(Math.abs(s[0]!.startSec - 1) < 0.05 && Math.abs(s[0]!.endSec - 4) < 0.05, JSON.stringify(s));
});

t("a tap: the leg's marked downlink around the tapped person's own, unmarked voice", async () => {
  const key = fixedKey(1);
  const others = (await decodeFile(fixture('allison-1.opus'), { sampleRate: R, mono: true })).channels[0]!;
  const own = (await decodeFile(fixture('espeak-us-m3.opus'), { sampleRate: R, mono: true })).channels[0]!;
  // Downlink: others talk 0-12 s and 20-32 s, silence 12-20 s (mix-minus: the tapped person's own
  // voice is not in their downlink). The whole downlink is marked on one continuous session timeline.
  const downlink = new Float32Array(R * 32);
  downlink.set(others.subarray(R * 5, R * 17), 0);
  downlink.set(others.subarray(R * 30, R * 42), R * 20);
  const marked = embedAudio({ channels: [downlink], sampleRate: R }, { key, token: 'leg-x', offsetSec: 300 }).channels[0]!;
  // Capture point: downlink plus the tapped person's own voice 12.5-19.5 s.
  const tap = Float32Array.from(marked);
  const ownPart = own.subarray(R * 3, R * 10);
  for (let i = 0; i < ownPart.length; i++) tap[R * 12.5 + i]! += ownPart[i]!;
  const clip = { channels: [tap], sampleRate: R };
  const detection = detect(clip, { key, candidates: ['leg-x', 'leg-y'] });
  assert.equal(detection.legs.map((l) => l.token), ['leg-x']);
  const found = unmarkedSpeech(clip, detection.legs, { key }).get('leg-x') ?? [];
  assert.ok(found.length >= 1, 'the own-voice stretch is found');
  for (const f of found) assert.ok(f.startSec > 11.5 && f.endSec < 20.5, `unmarked stretch ${f.startSec}-${f.endSec} should lie in the own-voice part`);
  assert.ok(found.some((f) => f.endSec - f.startSec > 3));
});

t('no own voice: no stretch is called unmarked', async () => {
  const key = fixedKey(2);
  const others = (await decodeFile(fixture('allison-2.opus'), { sampleRate: R, mono: true })).channels[0]!.subarray(0, R * 30);
  const marked = embedAudio({ channels: [others], sampleRate: R }, { key, token: 'leg-x' }).channels[0]!;
  const clip = { channels: [marked], sampleRate: R };
  const detection = detect(clip, { key, candidates: ['leg-x'] });
  assert.is(detection.legs.length, 1);
  assert.is(unmarkedSpeech(clip, detection.legs, { key }).size, 0);
});

t.run();
