import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { encodeWav } from '../../lib/audio/wav.js';
import { readKeyFile } from '../../cli/keyfile.js';
import { embedAudio } from '../../lib/mark/embed.js';
import { payloadId } from '../../lib/mark/payload-layer.js';
import { scanFile } from '../../lib/trace/scan.js';
import type { Report } from '../../lib/report/types.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('cli/scan');
const tmp = tempDir();
t.after(() => tmp.cleanup());

const fixture = (name: string) => new URL(`../../fixtures/speech/${name}`, import.meta.url).pathname;
const tokens: string[] = [];
let clip = '';

t.before(async () => {
  assert.is((await cli(['keygen', tmp.path('org.key')])).code, 0);
  assert.is((await cli(['keygen', tmp.path('other.key')])).code, 0);
  for (const [participant, leg] of [['Gen. A', 'pstn'], ['Col. B', 'app'], ['C', 'browser'], ['D', 'sip']] as const) {
    const r = await cli(['registry', 'add', tmp.path('reg'), '--meeting', 'm1', '--participant', participant, '--leg', leg]);
    assert.is(r.code, 0, r.stderr);
    tokens.push(r.stdout.trim().split('\n').pop()!);
  }
  const key = await readKeyFile(tmp.path('org.key'));
  // Leg A from session 600 s, 14 s of one voice; then leg B from session 1200 s, 12 s of another.
  const a = await decodeFile(fixture('allison-2.opus'), { sampleRate: 16000, mono: true });
  const b = await decodeFile(fixture('espeak-gb-f3.opus'), { sampleRate: 16000, mono: true });
  const ma = embedAudio({ channels: [a.channels[0]!.subarray(0, 16000 * 14)], sampleRate: 16000 }, { key, token: tokens[0]!, offsetSec: 600 });
  const mb = embedAudio({ channels: [b.channels[0]!.subarray(0, 16000 * 12)], sampleRate: 16000 }, { key, token: tokens[1]!, offsetSec: 1200 });
  const spliced = new Float32Array(16000 * 26);
  spliced.set(ma.channels[0]!, 0);
  spliced.set(mb.channels[0]!, 16000 * 14);
  clip = tmp.path('leak.wav');
  writeFileSync(clip, encodeWav({ channels: [spliced], sampleRate: 16000 }, { sampleFormat: 'pcm16' }));
});

t('two spliced legs: both named from the registry with segments, offsets and a splice edit', async () => {
  const r = await cli(['scan', clip, '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.is(report.schema, 'earmark.report/1');
  assert.equal(report.legs.map((l) => l.participant).sort(), ['Col. B', 'Gen. A']);
  const a = report.legs.find((l) => l.token === tokens[0])!;
  const b = report.legs.find((l) => l.token === tokens[1])!;
  assert.is(a.leg, 'pstn');
  assert.ok(a.pValue <= 1e-6 && b.pValue <= 1e-6);
  // Segment A starts near 0 at session ~600 s; segment B near 14 s at session ~1200 s.
  const sa = a.segments[0]!;
  const sb = b.segments[0]!;
  assert.ok(Math.abs(sa.sessionOffset - (600 + sa.start)) < 0.02, JSON.stringify(sa));
  assert.ok(Math.abs(sb.sessionOffset - (1200 + sb.start - 14)) < 0.02, JSON.stringify(sb));
  assert.ok(Math.abs(sb.start - 14) < 2.5 && Math.abs(sa.end - 14) < 2.5);
  assert.ok(report.edits.some((e) => e.kind === 'splice' && Math.abs(e.time - 14) < 2.5), JSON.stringify(report.edits));
  assert.ok((a.inclusionProof as { format?: string }).format !== undefined);
  assert.ok(report.integrity!.unchanged);
  assert.match(report.registry!.checkpoint!, /^earmark\.registry\/[0-9a-f]+\n5\n/);
  assert.is(report.registry!.intact, true);
  // Same input and options → byte-identical JSON.
  const again = await cli(['scan', clip, '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--json']);
  assert.is(again.stdout, r.stdout);
});

t('wrong key finds nothing; a meeting filter with no legs is exit 2', async () => {
  const r = await cli(['scan', clip, '--key', tmp.path('other.key'), '--registry', tmp.path('reg'), '--json', '--html', tmp.path('r.html')]);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.legs, []);
  assert.match(report.verdict, /No leg's mark was found/);
  assert.match(readFileSync(tmp.path('r.html'), 'utf8'), /none detected/);
  const m = await cli(['scan', clip, '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--meeting', 'nope']);
  assert.is(m.code, 2);
  assert.match(m.stderr, /no legs of meeting nope/);
});

t('without a registry the blind payload id is read, and it names the leg in the registry', async () => {
  // 32 s of leg C alone (the payload needs ~30 s of wideband audio).
  const key = await readKeyFile(tmp.path('org.key'));
  const a = await decodeFile(fixture('allison-3.opus'), { sampleRate: 16000, mono: true });
  const m = embedAudio({ channels: [a.channels[0]!.subarray(16000 * 5, 16000 * 37)], sampleRate: 16000 }, { key, token: tokens[2]!, offsetSec: 42 });
  writeFileSync(tmp.path('c.wav'), encodeWav({ channels: m.channels, sampleRate: 16000 }, { sampleFormat: 'pcm16' }));
  const r = await cli(['scan', tmp.path('c.wav'), '--key', tmp.path('org.key'), '--json', '--html', tmp.path('c.html')]);
  assert.is(r.code, 0, r.stderr);
  assert.match(readFileSync(tmp.path('c.html'), 'utf8'), /<h2>Blind payload<\/h2><p>id [0-9a-f]{8} \(no registry\)/);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.legs, []);
  assert.is(report.payload!.reason, 'no registry');
  assert.is(report.payload!.id, payloadId(key, tokens[2]!));
  assert.ok(report.payload!.crcOk);
  assert.match(report.verdict, /No registry was given.*Blind payload id [0-9a-f]{8} read/);
  // With the wrong key there is no payload to read.
  const w = JSON.parse((await cli(['scan', tmp.path('c.wav'), '--key', tmp.path('other.key'), '--json'])).stdout) as Report;
  assert.is(w.payload!.id, null);
  assert.match(w.verdict, /No blind payload was found/);
});

t('a large registry is narrowed by the blind payload before informed detection', async () => {
  const key = await readKeyFile(tmp.path('org.key'));
  const report = await scanFile(tmp.path('c.wav'), { key, registry: tmp.path('reg'), payloadPrefilterAbove: 2 });
  assert.is(report.payload!.reason, 'large registry');
  assert.equal(report.payload!.registryMatches, [tokens[2]]);
  assert.is(report.registry!.candidates, 1);
  assert.equal(report.legs.map((l) => l.token), [tokens[2]]);
});

t('bad inputs: exit 2 with one line naming the input', async () => {
  writeFileSync(tmp.path('notaudio.mp3'), 'plain text, not audio\n'.repeat(40));
  for (const [argv, re] of [
    [['scan', tmp.path('notaudio.mp3'), '--key', tmp.path('org.key'), '--registry', tmp.path('reg')], /notaudio\.mp3: /],
    [['scan', clip, '--key', tmp.path('missing.key'), '--registry', tmp.path('reg')], /missing\.key: no such key file/],
    [['scan', clip, '--key', tmp.path('org.key'), '--registry', tmp.path('notreg')], /notreg/],
  ] as const) {
    const r = await cli([...argv]);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

t.run();
