/**
 * The content reference through the CLI: embed --content-ref writes it, registry content commits
 * it, scan --content checks a named leg's content. The leg's own downlink is named with a
 * consistent check; its perfect mark (embedded with the key) on other speech is not named; a
 * reference the registry does not commit is not used; a corrupt one is exit 2 naming the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeFile } from '../../lib/audio/decode.js';
import { encodeWav } from '../../lib/audio/wav.js';
import type { Report } from '../../lib/report/types.js';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('cli/content');
const tmp = tempDir();
t.after(() => tmp.cleanup());
const fixture = (name: string) => new URL(`../../fixtures/speech/${name}`, import.meta.url).pathname;
let token = '';

t.before(async () => {
  assert.is((await cli(['keygen', tmp.path('org.key')])).code, 0);
  const r = await cli(['registry', 'add', tmp.path('reg'), '--meeting', 'm1', '--participant', 'Gen. A', '--leg', 'pstn']);
  assert.is(r.code, 0, r.stderr);
  token = r.stdout.trim().split('\n').pop()!;
  const own = await decodeFile(fixture('allison-2.opus'), { sampleRate: 16000, mono: true });
  const other = await decodeFile(fixture('allison-3.opus'), { sampleRate: 16000, mono: true });
  writeFileSync(tmp.path('own.wav'), encodeWav({ channels: [own.channels[0]!.subarray(0, 16000 * 14)], sampleRate: 16000 }, { sampleFormat: 'pcm16' }));
  writeFileSync(tmp.path('other.wav'), encodeWav({ channels: [other.channels[0]!.subarray(0, 16000 * 14)], sampleRate: 16000 }, { sampleFormat: 'pcm16' }));
});

t('embed --content-ref, registry content, scan --content: own content named, the same mark on other speech not', async () => {
  const e = await cli(['embed', tmp.path('own.wav'), tmp.path('downlink.wav'), '--key', tmp.path('org.key'), '--token', token, '--offset', '812.5', '--profile', 'v2', '--content-ref', tmp.path('a.ecr')]);
  assert.is(e.code, 0, e.stderr);
  assert.match(e.stdout, /content reference of .*sha256 [0-9a-f]{64}/);
  // The forger's best case: the key's own embedder puts the same leg's mark at the same session time on other speech.
  const f = await cli(['embed', tmp.path('other.wav'), tmp.path('forged.wav'), '--key', tmp.path('org.key'), '--token', token, '--offset', '812.5', '--profile', 'v2']);
  assert.is(f.code, 0, f.stderr);
  const c = await cli(['registry', 'content', tmp.path('reg'), tmp.path('a.ecr')]);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^leg\.content #\d+: /);
  const list = await cli(['registry', 'list', tmp.path('reg')]);
  assert.match(list.stdout, /leg\.content token=/);
  assert.is((await cli(['registry', 'verify', tmp.path('reg')])).code, 0);

  const scan = (clip: string, extra: string[] = []) => cli(['scan', tmp.path(clip), '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--json', ...extra]);
  const genuine = await scan('downlink.wav', ['--content', tmp.path('a.ecr')]);
  assert.is(genuine.code, 0, genuine.stderr);
  const g = JSON.parse(genuine.stdout) as Report;
  assert.equal(g.legs.map((l) => l.token), [token]);
  assert.is(g.legs[0]!.content?.verdict, 'consistent');
  assert.ok(g.legs[0]!.content!.agreement! > 0.9);
  assert.equal(g.contentReferences?.map((r) => [r.token, r.committed, r.used]), [[token, true, true]]);
  assert.match(g.verdict, /content agrees with the bridge's content reference/);

  const forged = await scan('forged.wav', ['--content', tmp.path('a.ecr')]);
  assert.is(forged.code, 0, forged.stderr);
  const fr = JSON.parse(forged.stdout) as Report;
  assert.equal(fr.legs, []);
  assert.match(fr.verdict, /Possible copied mark/);
  assert.match(fr.verdict, /Gen\. A/);
  // Without the reference the same forgery names the leg: the check is what stops it.
  const blind = JSON.parse((await scan('forged.wav')).stdout) as Report;
  assert.equal(blind.legs.map((l) => l.token), [token]);
  assert.ok(blind.limits!.some((l) => /without a consistent content check/.test(l)), JSON.stringify(blind.limits) + JSON.stringify(blind.legs.map((l) => l.profile)));
  // The text report shows the check.
  const text = await cli(['scan', tmp.path('downlink.wav'), '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--content', tmp.path('a.ecr')]);
  assert.match(text.stdout, /content check: consistent/);
});

t('a reference the registry does not commit is not used; a corrupt one is exit 2 naming the file', async () => {
  const e = await cli(['embed', tmp.path('other.wav'), tmp.path('other-marked.wav'), '--key', tmp.path('org.key'), '--token', token, '--offset', '900', '--content-ref', tmp.path('b.ecr')]);
  assert.is(e.code, 0, e.stderr);
  const r = await cli(['scan', tmp.path('forged.wav'), '--key', tmp.path('org.key'), '--registry', tmp.path('reg'), '--json', '--content', tmp.path('b.ecr')]);
  assert.is(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  assert.equal(rep.contentReferences?.map((c) => [c.committed, c.used]), [[false, false]]);
  assert.ok(rep.limits!.some((l) => /not committed in the registry: it was not used/.test(l)));
  const bytes = readFileSync(tmp.path('a.ecr'));
  bytes[bytes.length - 50]! ^= 0xff;
  writeFileSync(tmp.path('bad.ecr'), bytes);
  const bad = await cli(['scan', tmp.path('forged.wav'), '--key', tmp.path('org.key'), '--content', tmp.path('bad.ecr')]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /bad\.ecr.*corrupt/);
  const again = await cli(['embed', tmp.path('own.wav'), tmp.path('x.wav'), '--key', tmp.path('org.key'), '--token', token, '--content-ref', tmp.path('a.ecr')]);
  assert.is(again.code, 2);
  assert.match(again.stderr, /a\.ecr.*refusing to overwrite/);
  const missing = await cli(['registry', 'content', tmp.path('reg'), tmp.path('nope.ecr')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.ecr/);
});

t.run();
