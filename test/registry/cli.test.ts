import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const t = suite('registry: CLI');
const tmp = tempDir('earmark-registry-cli-');
t.after(() => tmp.cleanup());

const lastLine = (s: string) => s.trimEnd().split('\n').pop()!;

t('add prints the token last; list (text, JSON); checkpoint; prove → verify-proof; verify exits 0', async () => {
  const reg = tmp.path('reg');
  const a = await cli(['registry', 'add', reg, '--meeting', 'board-7', '--participant', 'Dana Roe', '--leg', 'pstn', '--device', '+44 20 7946 0000', '--joined', '2025-04-01T09:00:00+02:00']);
  assert.is(a.code, 0, a.stderr);
  const token = lastLine(a.stdout);
  assert.match(token, /^[a-z2-7]{26}$/);
  const b = await cli(['registry', 'add', reg, '--meeting', 'board-7', '--participant', 'Eli', '--leg', 'recorder']);
  assert.is(b.code, 0, b.stderr);
  const token2 = lastLine(b.stdout);

  const text = await cli(['registry', 'list', reg]);
  assert.is(text.code, 0);
  assert.match(text.stdout, new RegExp(`#1 leg.joined token=${token} meeting=board-7 participant="Dana Roe" leg=pstn device="\\+44 20 7946 0000" joined=2025-04-01T07:00:00.000Z`));
  const json = JSON.parse((await cli(['registry', 'list', reg, '--json'])).stdout) as { size: number; entries: { index: number; type: string; token?: string }[] };
  assert.is(json.size, 3);
  assert.equal(json.entries.map((e) => e.type), ['meeting.created', 'leg.joined', 'leg.joined']);
  assert.is(json.entries[2]!.token, token2);

  const cp = await cli(['registry', 'checkpoint', reg]);
  assert.is(cp.code, 0);
  assert.match(cp.stdout, /^earmark\.registry\/[0-9a-f]{16}\n3\n[A-Za-z0-9+/]{43}=\n\n— earmark\.registry\/[0-9a-f]{16} \S+\n$/);
  writeFileSync(tmp.path('cp.txt'), cp.stdout);

  const proof = await cli(['registry', 'prove', reg, token]);
  assert.is(proof.code, 0, proof.stderr);
  writeFileSync(tmp.path('bundle.json'), proof.stdout);
  const ok = await cli(['registry', 'verify-proof', tmp.path('bundle.json')]);
  assert.is(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^valid: leg\.joined at #1 /);
  const bundle = JSON.parse(proof.stdout) as { entry: string };
  writeFileSync(tmp.path('forged.json'), JSON.stringify({ ...bundle, entry: bundle.entry.replace('Dana Roe', 'Dan Roe') }));
  const forged = await cli(['registry', 'verify-proof', tmp.path('forged.json')]);
  assert.is(forged.code, 1);
  assert.match(forged.stdout, /^INVALID: /);

  const v = await cli(['registry', 'verify', reg, '--checkpoint', tmp.path('cp.txt')]);
  assert.is(v.code, 0, v.stdout);
  assert.match(v.stdout, /^intact: .*: 3 entries, 4 signed checkpoints verified \(committed size 3\)/);
  const vj = JSON.parse((await cli(['registry', 'verify', reg, '--json'])).stdout) as { intact: boolean; size: number };
  assert.equal([vj.intact, vj.size], [true, 3]);

  const left = await cli(['registry', 'leave', reg, token, '--left', '2025-04-01T08:00:00Z']);
  assert.is(left.code, 0, left.stderr);
  assert.match(left.stdout, /^leg\.left #3: /);
});

t('tampering: verify exits 1 naming the first bad entry; with --checkpoint a cut log is exposed', async () => {
  const reg = tmp.path('tampered');
  for (const p of ['Ann', 'Bo', 'Cy']) assert.is((await cli(['registry', 'add', reg, '--meeting', 'm', '--participant', p, '--leg', 'app'])).code, 0);
  writeFileSync(tmp.path('cp-full.txt'), (await cli(['registry', 'checkpoint', reg])).stdout);
  const log = join(reg, 'log.jsonl');
  const original = readFileSync(log, 'utf8');
  writeFileSync(log, original.replace('"Bo"', '"Bob"'));
  const altered = await cli(['registry', 'verify', reg]);
  assert.is(altered.code, 1);
  assert.match(altered.stdout, /^TAMPERED: .*first bad entry #2 \(altered\): entry #2 differs from what checkpoint #2 \(size 3\) committed to\n/);
  // Cut the log and its checkpoints consistently: only the saved checkpoint shows it.
  writeFileSync(log, original.split('\n').slice(0, 2).join('\n') + '\n');
  const cps = readFileSync(join(reg, 'checkpoints.jsonl'), 'utf8').split('\n');
  writeFileSync(join(reg, 'checkpoints.jsonl'), cps.slice(0, 2).join('\n') + '\n');
  assert.is((await cli(['registry', 'verify', reg])).code, 0);
  const cut = await cli(['registry', 'verify', reg, '--checkpoint', tmp.path('cp-full.txt')]);
  assert.is(cut.code, 1);
  assert.match(cut.stdout, /first bad entry #2 \(truncated\)/);
});

t('unreadable input exits 2 with one line naming it', async () => {
  const garbage = tmp.path('garbage');
  writeFileSync(garbage, '\x00\x01 not a registry');
  const dirNoMeta = tmp.path('dir-no-meta');
  mkdirSync(dirNoMeta);
  const badMeta = tmp.path('bad-meta');
  mkdirSync(badMeta);
  writeFileSync(join(badMeta, 'registry.json'), 'not json');
  const reg = tmp.path('ok');
  await cli(['registry', 'add', reg, '--meeting', 'm', '--participant', 'P', '--leg', 'sip']);
  writeFileSync(tmp.path('bad-cp.txt'), 'hello\n');
  const cases: [string[], string][] = [
    [['registry', 'verify', tmp.path('missing')], tmp.path('missing')],
    [['registry', 'verify', garbage], garbage],
    [['registry', 'list', garbage], garbage],
    [['registry', 'verify', dirNoMeta], dirNoMeta],
    [['registry', 'verify', badMeta], badMeta],
    [['registry', 'prove', reg, 'nosuchtoken'], reg],
    [['registry', 'verify', reg, '--checkpoint', tmp.path('bad-cp.txt')], tmp.path('bad-cp.txt')],
    [['registry', 'verify', reg, '--checkpoint', tmp.path('no-cp.txt')], tmp.path('no-cp.txt')],
    [['registry', 'add', reg, '--meeting', 'm', '--participant', 'P', '--leg', 'app', '--joined', 'yesterday'], reg],
    [['registry', 'add', garbage, '--meeting', 'm', '--participant', 'P', '--leg', 'app'], garbage],
    [['registry', 'verify-proof', garbage], garbage],
  ];
  for (const [argv, named] of cases) {
    const r = await cli(argv);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.startsWith(`earmark: ${named}: `), r.stderr);
  }
  for (const argv of [['registry'], ['registry', 'add', reg, '--meeting', 'm', '--participant', 'P', '--leg', 'fax'], ['registry', 'add', reg]]) {
    const r = await cli(argv);
    assert.is(r.code, 2, argv.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

t.run();
