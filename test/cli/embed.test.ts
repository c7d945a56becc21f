import { copyFileSync, readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('cli/embed');
const tmp = tempDir();
t.after(() => tmp.cleanup());
const source = new URL('../../fixtures/media/clip.flac', import.meta.url).pathname;

t.before(async () => {
  assert.is((await cli(['keygen', tmp.path('org.key')])).code, 0);
});

t('embed writes the format its extension names, same length and rate, audibly the same', async () => {
  const r = await cli(['embed', source, tmp.path('out.wav'), '--key', tmp.path('org.key'), '--token', 'tok1', '--offset', '12.5']);
  assert.is(r.code, 0, r.stderr);
  const a = await decodeFile(source);
  const b = await decodeFile(tmp.path('out.wav'));
  assert.is(b.sampleRate, a.sampleRate);
  assert.is(b.channels[0]!.length, a.channels[0]!.length);
  let sig = 0;
  let err = 0;
  for (let i = 0; i < a.channels[0]!.length; i++) {
    sig += a.channels[0]![i]! ** 2;
    err += (a.channels[0]![i]! - b.channels[0]![i]!) ** 2;
  }
  const snr = 10 * Math.log10(sig / err);
  assert.ok(snr > 20 && snr < 60, `SNR ${snr.toFixed(1)} dB`);
  const m4a = await cli(['embed', source, tmp.path('out.m4a'), '--key', tmp.path('org.key'), '--token', 'tok1']);
  assert.is(m4a.code, 0, m4a.stderr);
});

t('embed refuses to overwrite its input, bad offsets, control characters in tokens', async () => {
  copyFileSync(source, tmp.path('in.flac'));
  const before = readFileSync(tmp.path('in.flac'));
  for (const [argv, re] of [
    [['embed', tmp.path('in.flac'), tmp.path('in.flac'), '--key', tmp.path('org.key'), '--token', 't'], /refusing to overwrite the original/],
    [['embed', tmp.path('in.flac'), tmp.path('o.wav'), '--key', tmp.path('org.key'), '--token', 't', '--offset', '-1'], /--offset/],
    [['embed', tmp.path('in.flac'), tmp.path('o.wav'), '--key', tmp.path('org.key'), '--token', 'a\u0000b'], /control characters/],
    [['embed', tmp.path('in.flac'), tmp.path('o.xyz'), '--key', tmp.path('org.key'), '--token', 't'], /cannot write/],
  ] as const) {
    const r = await cli([...argv]);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.equal(readFileSync(tmp.path('in.flac')), before);
});

t.run();
