import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { encodeWav } from '../../lib/audio/wav.js';
import { cli } from '../helpers/cli.js';
import { tempDir, tone } from '../helpers/tmp.js';
import { bandFraction } from './measure.js';

const t = suite('channel/simulate CLI');
const tmp = tempDir();
t.after(() => tmp.cleanup());
const media = new URL('../../fixtures/media/', import.meta.url).pathname;

t('simulate: WAV in, chain applied, m4a out at the codec rate', async () => {
  const input = tmp.path('in.wav');
  writeFileSync(input, encodeWav({ channels: [tone(1000, 16000, 2, 0.3)], sampleRate: 16000 }));
  const out = tmp.path('out.m4a');
  const r = await cli(['simulate', input, out, '--chain', 'amrnb:12.2,aac:96']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.match(r.stdout, /out\.m4a: 2\.000 s, 8000 Hz, 1 channel\(s\) \(chain "amrnb:12\.2,aac:96", seed 0\)/);
  const back = await decodeFile(out);
  assert.is(back.sampleRate, 8000);
  assert.ok(Math.abs(back.channels[0]!.length - 16000) <= 1024, `length ${back.channels[0]!.length}`);
});

t('simulate: any input format (the committed mp4 with video) to WAV; seeded and reproducible', async () => {
  const a = tmp.path('a.wav');
  const b = tmp.path('b.wav');
  for (const out of [a, b]) {
    const r = await cli(['simulate', `${media}clip.mp4`, out, '--chain', 'bandpass:300:3400,noise:25,speed:1.02', '--seed', '4']);
    assert.is(r.code, 0, r.stderr);
  }
  assert.equal(readFileSync(a), readFileSync(b));
  const c = tmp.path('c.wav');
  await cli(['simulate', `${media}clip.mp4`, c, '--chain', 'bandpass:300:3400,noise:25,speed:1.02', '--seed', '5']);
  assert.not.equal(readFileSync(a), readFileSync(c));
  const audio = await decodeFile(a);
  assert.is(audio.sampleRate, 48000);
  assert.ok(bandFraction(audio.channels[0]!, 48000, 300, 3600) > 0.7);
});

t('simulate: bad chain, bad output extension, missing input exit 2 with one line', async () => {
  const input = tmp.path('in2.wav');
  writeFileSync(input, encodeWav({ channels: [tone(440, 8000, 1)], sampleRate: 8000 }));
  const cases: [string[], RegExp][] = [
    [['simulate', input, tmp.path('o.wav'), '--chain', 'amrnb:11'], /chain step 1 "amrnb:11": kbps must be one of/],
    [['simulate', input, tmp.path('o.wav'), '--chain', 'reverb:2'], /unknown step "reverb"/],
    [['simulate', input, tmp.path('o.xyz'), '--chain', 'gain:1'], /o\.xyz: cannot write "\.xyz" \(supported: \.wav/],
    [['simulate', tmp.path('missing.wav'), tmp.path('o.wav'), '--chain', 'gain:1'], /missing\.wav: no such file/],
    [['simulate', input, tmp.path('no/such/dir/o.wav'), '--chain', 'gain:1'], /output directory .* does not exist/],
    [['simulate', input, tmp.path('o.wav'), '--chain', 'crop:5:1'], /past the end/],
    [['simulate', input, tmp.path('o.wav')], /Missing required argument: chain/],
  ];
  for (const [argv, re] of cases) {
    const r = await cli(argv);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^earmark: /);
    assert.match(r.stderr, re);
  }
});

t.run();
