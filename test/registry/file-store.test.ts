import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { encodeEvent } from '../../lib/registry/events.js';
import { FileStore } from '../../lib/registry/file-store.js';
import { openRegistry } from '../../lib/registry/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { conformanceSuite } from './conformance.js';
import type { FreshRegistry } from './conformance.js';

function splitLog(path: string): Uint8Array[] {
  const bytes = readFileSync(path);
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(new Uint8Array(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  return lines;
}

conformanceSuite({
  name: 'file',
  async fresh(): Promise<FreshRegistry> {
    const tmp = tempDir('earmark-registry-');
    const location = join(tmp.dir, 'reg');
    return { location, signingKeyPath: `${location}.signing-key`, cleanup: async () => tmp.cleanup() };
  },
  async rewriteEntries(reg, edit) {
    const path = join(reg.location, 'log.jsonl');
    const lines = edit(splitLog(path));
    writeFileSync(path, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  },
  async rewriteCheckpoints(reg, edit) {
    const path = join(reg.location, 'checkpoints.jsonl');
    const notes = splitLog(path).map((l) => (JSON.parse(Buffer.from(l).toString('utf8')) as { note: string }).note);
    writeFileSync(path, edit(notes).map((note) => `${JSON.stringify({ note })}\n`).join(''));
  },
});

const t = suite('registry: file store specifics');
const tmp = tempDir('earmark-registry-');
t.after(() => tmp.cleanup());

t('layout: registry.json, log.jsonl, checkpoints.jsonl; the signing key is a 0600 sibling', async () => {
  const dir = tmp.path('layout');
  const r = await openRegistry(dir);
  const d = await r.addLeg({ meeting: 'm', participant: 'P', leg: 'sip' });
  const meta = JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')) as Record<string, string>;
  assert.is(meta['format'], 'earmark.registry/1');
  assert.is(readFileSync(join(dir, 'log.jsonl'), 'utf8').trimEnd().split('\n')[1], Buffer.from(encodeEvent(d.event)).toString('utf8'));
  assert.is(readFileSync(join(dir, 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n').length, 2);
  const { statSync } = await import('node:fs');
  assert.is(statSync(`${dir}.signing-key`).mode & 0o777, 0o600);
  assert.match(readFileSync(`${dir}.signing-key`, 'utf8'), /^PRIVATE\+KEY\+earmark\.registry\/[0-9a-f]{16}\+[0-9a-f]{8}\+/);
});

t('torn tails (crash mid-write) are ignored by readers and repaired by the next writer', async () => {
  const dir = tmp.path('torn');
  const r = await openRegistry(dir);
  const a = await r.addLeg({ meeting: 'm', participant: 'P', leg: 'app' });
  appendFileSync(join(dir, 'log.jsonl'), '{"joined":"2025-01-0');
  appendFileSync(join(dir, 'checkpoints.jsonl'), '{"note":"earmark');
  let report = await r.verify();
  assert.ok(report.intact, JSON.stringify(report.findings));
  assert.match(report.warnings[0] ?? '', /incomplete line of 20 bytes/);
  assert.is((await r.legs())[0]?.token, a.token);
  const b = await r.addLeg({ meeting: 'm', participant: 'Q', leg: 'app' });
  report = await r.verify();
  assert.ok(report.intact);
  assert.is(report.warnings.length, 0);
  assert.is(b.index, 2);
  assert.ok(readFileSync(join(dir, 'log.jsonl'), 'utf8').endsWith('\n'));
});

t('an entry written but not sealed (crash before the checkpoint) is reported, then sealed', async () => {
  const dir = tmp.path('unsealed');
  const r = await openRegistry(dir);
  const a = await r.addLeg({ meeting: 'm', participant: 'P', leg: 'app' });
  appendFileSync(join(dir, 'log.jsonl'), `${Buffer.from(encodeEvent({ type: 'leg.left', token: a.token, left: '2025-01-01T00:00:00.000Z' })).toString('utf8')}\n`);
  const report = await r.verify();
  assert.equal(report.findings.map((f) => [f.kind, f.index]), [['unsealed', 2]]);
  const cp = await r.checkpoint();
  assert.match(cp, /\n3\n/);
  assert.ok((await r.verify()).intact);
});

t('a stale lock (dead holder) is broken; a live holder makes writers wait, then time out naming the lock', async () => {
  const dir = tmp.path('locks');
  const r = await openRegistry(dir, { lockTimeoutMs: 300 });
  await r.init();
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  const hostname = (await import('node:os')).hostname();
  writeFileSync(join(dir, 'lock'), JSON.stringify({ host: hostname, nonce: 'x', pid: dead, since: new Date().toISOString() }));
  await r.addLeg({ meeting: 'm', participant: 'P', leg: 'app' });
  // pid 1 is alive (and not us).
  writeFileSync(join(dir, 'lock'), JSON.stringify({ host: hostname, nonce: 'y', pid: 1, since: '2025-01-01T00:00:00.000Z' }));
  const started = Date.now();
  await r.addLeg({ meeting: 'm', participant: 'Q', leg: 'app' }).then(
    () => assert.unreachable('acquired a live lock'),
    (err: unknown) => {
      assert.instance(err, InputError);
      assert.match((err as Error).message, /lock: registry is locked by pid 1 /);
    },
  );
  assert.ok(Date.now() - started >= 300);
  (await import('node:fs')).unlinkSync(join(dir, 'lock'));
  assert.is(await r.store.size(), 2);
});

t('corrupt or missing registries are InputErrors naming the path', async () => {
  const file = tmp.path('plain-file');
  writeFileSync(file, 'garbage');
  const emptyDir = tmp.path('empty-dir');
  (await import('node:fs')).mkdirSync(emptyDir);
  const badMeta = tmp.path('bad-meta');
  (await import('node:fs')).mkdirSync(badMeta);
  writeFileSync(join(badMeta, 'registry.json'), '{"format":"something else"}');
  for (const [path, re] of [
    [tmp.path('missing'), /no registry here/],
    [file, /not a registry directory/],
    [emptyDir, /no registry\.json/],
    [badMeta, /registry\.json is corrupt/],
  ] as const) {
    await new FileStore(path).snapshot().then(
      () => assert.unreachable(path),
      (err: unknown) => {
        assert.instance(err, InputError);
        assert.ok((err as Error).message.startsWith(`${path}: `), (err as Error).message);
        assert.match((err as Error).message, re);
      },
    );
  }
  // Not a registry and not empty: add refuses to turn it into one.
  writeFileSync(join(emptyDir, 'notes.txt'), 'mine');
  await new FileStore(emptyDir).init().then(() => assert.unreachable(), (err: unknown) => assert.match((err as Error).message, /not empty/));
  // A missing signing key is named.
  const r = await openRegistry(tmp.path('nokey'));
  await r.init();
  const other = await openRegistry(tmp.path('nokey'), { signingKeyPath: tmp.path('elsewhere.key') });
  await other.addLeg({ meeting: 'm', participant: 'P', leg: 'app' }).then(() => assert.unreachable(), (err: unknown) => assert.match((err as Error).message, /elsewhere\.key: signing key not found/));
});

t.run();
