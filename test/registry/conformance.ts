/**
 * The registry store conformance suite: the same tests for every `RegistryStore`. A harness
 * says how to make a fresh registry and how an attacker with write access to the storage
 * rewrites it (bypassing the store, as tampering would).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../lib/errors.js';
import { verifyProofBundle } from '../../lib/registry/bundle.js';
import type { ProofBundle } from '../../lib/registry/bundle.js';
import { generateSignerKey, openCheckpoint, parseVerifierKey, signCheckpoint } from '../../lib/registry/checkpoint.js';
import { decodeEvent, encodeEvent } from '../../lib/registry/events.js';
import type { LegJoined } from '../../lib/registry/events.js';
import { consistencyProof, leafHash, verifyConsistency } from '../../lib/registry/merkle.js';
import { openRegistry } from '../../lib/registry/registry.js';
import type { Registry } from '../../lib/registry/registry.js';
import type { FindingKind } from '../../lib/registry/verify.js';
import { cli } from '../helpers/cli.js';

export interface FreshRegistry {
  location: string;
  signingKeyPath: string;
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  name: string;
  fresh(): Promise<FreshRegistry>;
  /** Rewrite the stored log entries directly (an attacker with storage access). */
  rewriteEntries(reg: FreshRegistry, edit: (entries: Uint8Array[]) => Uint8Array[]): Promise<void>;
  /** Rewrite the stored checkpoint notes directly. */
  rewriteCheckpoints(reg: FreshRegistry, edit: (notes: string[]) => string[]): Promise<void>;
}

const worker = fileURLToPath(new URL('./fixtures/append-worker.ts', import.meta.url));

/** Run `fn` with an open registry, always closing it. */
async function withRegistry<T>(reg: FreshRegistry, fn: (r: Registry) => Promise<T>): Promise<T> {
  const r = await openRegistry(reg.location, { signingKeyPath: reg.signingKeyPath });
  try {
    return await fn(r);
  } finally {
    await r.close();
  }
}

/**
 * The standard registry of the tamper tests:
 *   #0 meeting.created m1   #1 leg.joined Alice   #2 leg.joined Bob
 *   #3 meeting.created m2   #4 leg.joined Carol   #5 leg.left Alice
 */
async function standard(reg: FreshRegistry): Promise<string[]> {
  return withRegistry(reg, async (r) => {
    const a = await r.addLeg({ meeting: 'm1', participant: 'Alice', leg: 'pstn', device: 'Nokia 3310', joined: '2025-03-01T10:00:00Z' });
    const b = await r.addLeg({ meeting: 'm1', participant: 'Bob', leg: 'app', joined: '2025-03-01T10:00:05Z' });
    const c = await r.addLeg({ meeting: 'm2', participant: 'Carol', leg: 'sip', joined: '2025-03-01T11:00:00+01:00' });
    await r.leaveLeg({ token: a.token, left: '2025-03-01T10:30:00Z' });
    return [a.token, b.token, c.token];
  });
}

function replaceInEntry(entry: Uint8Array, from: string, to: string): Uint8Array {
  const text = Buffer.from(entry).toString('utf8');
  assert.ok(text.includes(from), `entry has ${from}`);
  return new Uint8Array(Buffer.from(text.replace(from, to), 'utf8'));
}

function flipByte(entry: Uint8Array, at: number, mask: number): Uint8Array {
  const copy = new Uint8Array(entry);
  copy[at]! ^= mask;
  return copy;
}

interface Mutation {
  name: string;
  edit: (e: Uint8Array[]) => Uint8Array[];
  kind: FindingKind;
  index: number;
}

const MUTATIONS: Mutation[] = [
  { name: 'flip a byte that breaks the JSON', edit: (e) => e.map((x, i) => (i === 3 ? flipByte(x, 0, 0x01) : x)), kind: 'malformed', index: 3 },
  {
    name: 'flip a byte inside a name (still valid JSON)',
    edit: (e) => e.map((x, i) => (i === 2 ? flipByte(x, Buffer.from(x).indexOf('Bob'), 0x20) : x)),
    kind: 'altered',
    index: 2,
  },
  { name: "alter a participant's name (re-encoded canonically)", edit: (e) => e.map((x, i) => (i === 4 ? replaceInEntry(x, '"Carol"', '"Mallory"') : x)), kind: 'altered', index: 4 },
  { name: 'alter the leg kind of the first leg', edit: (e) => e.map((x, i) => (i === 1 ? replaceInEntry(x, '"pstn"', '"app"') : x)), kind: 'altered', index: 1 },
  { name: 'delete an entry', edit: (e) => e.filter((_, i) => i !== 2), kind: 'deleted', index: 2 },
  { name: 'duplicate an entry', edit: (e) => [...e.slice(0, 2), e[1]!, ...e.slice(2)], kind: 'duplicated', index: 2 },
  { name: 'swap two adjacent entries', edit: (e) => [e[0]!, e[2]!, e[1]!, ...e.slice(3)], kind: 'reordered', index: 1 },
  { name: 'swap two distant entries', edit: (e) => [e[0]!, e[4]!, e[2]!, e[3]!, e[1]!, e[5]!], kind: 'reordered', index: 1 },
  { name: 'cut the log short of its checkpoints', edit: (e) => e.slice(0, 3), kind: 'truncated', index: 3 },
  {
    name: 'insert a forged leg',
    edit: (e) => {
      const forged: LegJoined = { type: 'leg.joined', token: 'forgedtokenaaaaaaaaaaaaaaa', meeting: 'm1', participant: 'Mallory', leg: 'app', joined: '2025-03-01T10:00:06.000Z' };
      return [...e.slice(0, 3), encodeEvent(forged), ...e.slice(3)];
    },
    kind: 'inserted',
    index: 3,
  },
];

function collectLines(child: ReturnType<typeof spawn>, onLine: (line: string) => void): void {
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
}

function runWorker(reg: FreshRegistry, count: number | 'forever', name: string): { child: ReturnType<typeof spawn>; tokens: string[]; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, reg.location, reg.signingKeyPath, String(count), name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tokens: string[] = [];
  let stderr = '';
  collectLines(child, (line) => tokens.push(line));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, tokens, done };
}

export function conformanceSuite(h: StoreHarness): void {
  const t = suite(`registry store conformance: ${h.name}`);

  t('init is idempotent; add creates the meeting once, issues unique tokens; leave and key rotation append', async () => {
    const reg = await h.fresh();
    try {
      await withRegistry(reg, async (r) => {
        const d1 = await r.init();
        const d2 = await r.init();
        assert.equal(d1, d2);
        assert.equal(await r.describe(), d1);
        assert.is(parseVerifierKey(d1.verifierKey).name, d1.origin);
        const a = await r.addLeg({ meeting: 'weekly', participant: 'Ana Lúcia 🎧', leg: 'browser', device: 'Firefox 128', joined: '2025-02-03T08:59:59.5+02:00' });
        const b = await r.addLeg({ meeting: 'weekly', participant: 'Ben', leg: 'recorder' });
        assert.match(a.token, /^[a-z2-7]{26}$/);
        assert.is.not(a.token, b.token);
        assert.equal(a.appended.map((x) => x.event.type), ['meeting.created', 'leg.joined']);
        assert.equal(b.appended.map((x) => x.event.type), ['leg.joined']);
        assert.is(a.event.joined, '2025-02-03T06:59:59.500Z');
        const left = await r.leaveLeg({ token: a.token, left: '2025-02-03T08:00:00Z' });
        assert.is(left.index, 3);
        const rotated = await r.recordKeyRotation({ key: 'k-2025-02', rotated: '2025-02-03T09:00:00Z' });
        assert.is(rotated.index, 4);
        const events = await r.events();
        assert.equal(events.map((e) => e.event.type), ['meeting.created', 'leg.joined', 'leg.joined', 'leg.left', 'key.rotated']);
        const legs = await r.legs();
        assert.equal(legs.map((l) => [l.participant, l.leg, l.left ?? null]), [['Ana Lúcia 🎧', 'browser', '2025-02-03T08:00:00.000Z'], ['Ben', 'recorder', null]]);
        assert.is(await r.store.size(), 5);
        const stored = await r.store.read(1, 2);
        assert.equal((decodeEvent(stored[0]!) as LegJoined).token, a.token);
        assert.ok((await r.verify()).intact);
      });
    } finally {
      await reg.cleanup();
    }
  });

  t('invalid input is refused before anything is written', async () => {
    const reg = await h.fresh();
    try {
      await withRegistry(reg, async (r) => {
        const bad: Parameters<Registry['addLeg']>[0][] = [
          { meeting: 'm', participant: 'P', leg: 'fax' },
          { meeting: 'm', participant: '', leg: 'app' },
          { meeting: 'm', participant: 'P', leg: 'app', joined: '2025-02-30T10:00:00Z' },
          { meeting: 'm', participant: 'P', leg: 'app', joined: '2025-02-03 10:00' },
          { meeting: 'm\n2', participant: 'P', leg: 'app' },
        ];
        for (const input of bad) {
          await r.addLeg(input).then(
            () => assert.unreachable(JSON.stringify(input)),
            (err: unknown) => {
              assert.instance(err, InputError, JSON.stringify(input));
              assert.ok((err as InputError).message.startsWith(`${r.location}: `), (err as Error).message);
            },
          );
        }
        await r.leaveLeg({ token: 'unknowntoken' }).then(() => assert.unreachable('leave unknown'), (err: unknown) => assert.instance(err, InputError));
        const { token } = await r.addLeg({ meeting: 'm', participant: 'P', leg: 'app' });
        await r.leaveLeg({ token });
        await r.leaveLeg({ token }).then(() => assert.unreachable('leave twice'), (err: unknown) => assert.match((err as Error).message, /already left/));
        assert.is(await r.store.size(), 3);
        // Content references: committed by digest for a joined leg, listed with the leg; a bad
        // digest, an unknown token and the same digest twice are refused.
        const digest = 'ab'.repeat(32);
        const c = await r.recordContent({ token, reference: digest, recorded: '2025-02-03T09:00:00Z' });
        assert.is(c.index, 3);
        assert.equal((await r.legs()).find((l) => l.token === token)?.contentReferences, [digest]);
        for (const input of [{ token, reference: 'AB'.repeat(32) }, { token, reference: 'ab'.repeat(31) }, { token: 'unknowntoken', reference: 'cd'.repeat(32) }, { token, reference: digest }])
          await r.recordContent(input).then(
            () => assert.unreachable(JSON.stringify(input)),
            (err: unknown) => assert.instance(err, InputError, JSON.stringify(input)),
          );
        assert.is(await r.store.size(), 4);
        assert.ok((await r.verify()).intact);
      });
    } finally {
      await reg.cleanup();
    }
  });

  t('one signed checkpoint per tree size; each is consistent with the one before (never two inconsistent)', async () => {
    const reg = await h.fresh();
    try {
      await standard(reg);
      await withRegistry(reg, async (r) => {
        const snap = await r.store.snapshot();
        const key = parseVerifierKey(snap.description.verifierKey);
        const cps = snap.checkpoints.map((c) => openCheckpoint(c.note!, key));
        assert.equal(cps.map((c) => c.size), [1, 2, 3, 4, 5, 6]);
        const hashes = snap.entries.map((e) => leafHash(e));
        for (let i = 1; i < cps.length; i++) {
          const proof = consistencyProof(hashes, cps[i - 1]!.size, cps[i]!.size);
          assert.ok(verifyConsistency(cps[i - 1]!.size, cps[i]!.size, proof, cps[i - 1]!.rootHash, cps[i]!.rootHash));
        }
        assert.is(await r.checkpoint(), snap.checkpoints[5]!.note);
        assert.is((await r.store.checkpoints()).length, 6, 'checkpoint() issued nothing new');
      });
    } finally {
      await reg.cleanup();
    }
  });

  t('prove: the bundle verifies offline; every altered bundle fails', async () => {
    const reg = await h.fresh();
    try {
      const [, bob] = await standard(reg);
      const bundle = await withRegistry(reg, (r) => r.prove(bob!));
      // Offline: only the JSON travels.
      const json = JSON.parse(JSON.stringify(bundle)) as ProofBundle;
      const ok = verifyProofBundle(json, { trustedPublicKey: json.publicKey });
      assert.ok(ok.ok, ok.ok ? '' : ok.reason);
      assert.is(json.index, 2);
      assert.is(json.treeSize, 6);
      if (ok.ok) assert.is((ok.event as LegJoined).participant, 'Bob');
      const flip = (s: string) => (s[0] === 'A' ? `B${s.slice(1)}` : `A${s.slice(1)}`);
      const other = generateSignerKey('other.example/log');
      const bad: [string, unknown, { trustedPublicKey?: string }?][] = [
        ['participant changed', { ...json, entry: json.entry.replace('Bob', 'Rob') }],
        ['index + 1', { ...json, index: json.index + 1 }],
        ['index - 1', { ...json, index: json.index - 1 }],
        ['tree size doubled', { ...json, treeSize: json.treeSize * 2 }],
        ['proof element flipped', { ...json, proof: json.proof.map((p, i) => (i === 0 ? flip(p) : p)) }],
        ['proof element missing', { ...json, proof: json.proof.slice(1) }],
        ['proof element added', { ...json, proof: [...json.proof, json.proof[0]!] }],
        ['checkpoint root changed', { ...json, checkpoint: json.checkpoint.replace(/\n6\n(.)/, (_m, c: string) => `\n6\n${c === 'A' ? 'B' : 'A'}`) }],
        ['checkpoint re-signed by another key', { ...json, checkpoint: signCheckpoint(openCheckpoint(json.checkpoint, parseVerifierKey(json.publicKey)), other) }],
        ['untrusted key', json, { trustedPublicKey: 'someone.else+00000000+AQ==' }],
        ['not an object', 'nope'],
        ['wrong format', { ...json, format: 'x' }],
      ];
      for (const [what, b, opts] of bad) assert.not.ok(verifyProofBundle(b, opts ?? {}).ok, what);
      await withRegistry(reg, (r) => r.prove('nosuchtoken')).then(() => assert.unreachable(), (err: unknown) => assert.instance(err, InputError));
    } finally {
      await reg.cleanup();
    }
  });

  for (const m of MUTATIONS) {
    t(`tamper: ${m.name} → ${m.kind} at #${m.index}; CLI verify exits 1; appends refused`, async () => {
      const reg = await h.fresh();
      try {
        await standard(reg);
        assert.ok((await withRegistry(reg, (r) => r.verify())).intact, 'intact before');
        await h.rewriteEntries(reg, m.edit);
        const report = await withRegistry(reg, (r) => r.verify());
        assert.not.ok(report.intact);
        assert.is(report.first?.kind, m.kind, JSON.stringify(report.findings));
        assert.is(report.first?.index, m.index, JSON.stringify(report.findings));
        const run = await cli(['registry', 'verify', reg.location]);
        assert.is(run.code, 1, run.stderr);
        assert.match(run.stdout, new RegExp(`^TAMPERED: .*first bad entry #${m.index} \\(${m.kind}\\)`));
        await withRegistry(reg, (r) => r.addLeg({ meeting: 'm9', participant: 'Z', leg: 'app' })).then(
          () => assert.unreachable('append to a tampered log'),
          (err: unknown) => assert.match((err as Error).message, /refusing to append|invalid/),
        );
      } finally {
        await reg.cleanup();
      }
    });
  }

  t('tamper: checkpoints removed, checkpoint signature broken, log cut with its checkpoints (external checkpoint)', async () => {
    const reg = await h.fresh();
    try {
      await standard(reg);
      const saved = await withRegistry(reg, (r) => r.checkpoint());
      // An entry altered and the checkpoints that would expose it removed: unsealed from #4.
      await h.rewriteEntries(reg, (e) => e.map((x, i) => (i === 4 ? replaceInEntry(x, 'Carol', 'Carla') : x)));
      await h.rewriteCheckpoints(reg, (notes) => notes.slice(0, 4));
      let report = await withRegistry(reg, (r) => r.verify());
      assert.is(report.first?.kind, 'unsealed');
      assert.is(report.first?.index, 4);
      // With the checkpoint kept outside, the alteration itself is named.
      report = await withRegistry(reg, (r) => r.verify({ externalCheckpoint: { note: saved, label: 'saved' } }));
      assert.is(report.first?.kind, 'altered');
      assert.is(report.first?.index, 4);
      // Cut the log to 3 entries and its checkpoints to match: consistent on its own ...
      await h.rewriteEntries(reg, (e) => e.slice(0, 3));
      await h.rewriteCheckpoints(reg, (notes) => notes.slice(0, 3));
      assert.ok((await withRegistry(reg, (r) => r.verify())).intact);
      // ... but not with the checkpoint a report cited earlier.
      report = await withRegistry(reg, (r) => r.verify({ externalCheckpoint: { note: saved, label: 'saved' } }));
      assert.is(report.first?.kind, 'truncated');
      assert.is(report.first?.index, 3);
      // A stored checkpoint whose signature no longer verifies.
      await h.rewriteCheckpoints(reg, (notes) => notes.map((n, i) => (i === 1 ? n.replace(/ (.)(\S*)\n$/, (_m, c: string, rest: string) => ` ${c === 'A' ? 'B' : 'A'}${rest}\n`) : n)));
      report = await withRegistry(reg, (r) => r.verify());
      assert.is(report.findings[0]?.kind, 'checkpoint-invalid');
      assert.is(report.findings[0]?.checkpoint, 1);
      // A signed checkpoint of another log is not accepted as external evidence.
      const foreign = signCheckpoint({ origin: 'other.example/log', size: 1, rootHash: new Uint8Array(32) }, generateSignerKey('other.example/log'));
      report = await withRegistry(reg, (r) => r.verify({ externalCheckpoint: { note: foreign, label: 'foreign' } }));
      assert.ok(report.findings.some((f) => f.kind === 'checkpoint-invalid' && /foreign/.test(f.detail)));
      // A trusted key that is not the registry's.
      report = await withRegistry(reg, (r) => r.verify({ trustedVerifierKey: 'x+00000000+AQ==' }));
      assert.ok(report.findings.some((f) => f.kind === 'key-mismatch'));
    } finally {
      await reg.cleanup();
    }
  });

  t('8 processes appending concurrently lose nothing', async () => {
    const reg = await h.fresh();
    try {
      await withRegistry(reg, (r) => r.init());
      const perWorker = 12;
      const workers = Array.from({ length: 8 }, (_, i) => runWorker(reg, perWorker, `w${i}`));
      const results = await Promise.all(workers.map((w) => w.done));
      for (const r of results) assert.is(r.code, 0, r.stderr);
      const acknowledged = workers.flatMap((w) => w.tokens);
      assert.is(acknowledged.length, 8 * perWorker);
      await withRegistry(reg, async (r) => {
        const legs = await r.legs();
        assert.is(legs.length, 8 * perWorker);
        assert.equal(new Set(legs.map((l) => l.token)), new Set(acknowledged));
        const events = await r.events();
        assert.is(events.filter((e) => e.event.type === 'meeting.created').length, 2, 'each shared meeting created once');
        const report = await r.verify();
        assert.ok(report.intact, JSON.stringify(report.findings.slice(0, 3)));
        assert.is(report.committedSize, 8 * perWorker + 2);
      });
    } finally {
      await reg.cleanup();
    }
  });

  t('kill -9 during appends loses no acknowledged entry; reopening repairs and seals', async () => {
    const reg = await h.fresh();
    try {
      await withRegistry(reg, (r) => r.init());
      const acknowledged: string[] = [];
      for (let round = 0; round < 4; round++) {
        const w = runWorker(reg, 'forever', `k${round}`);
        const target = 3 + Math.floor(Math.random() * 12);
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            if (w.tokens.length >= target) {
              clearInterval(timer);
              // A random moment inside the next appends.
              setTimeout(() => {
                w.child.kill('SIGKILL');
                resolve();
              }, Math.random() * 15);
            }
          }, 1);
        });
        const end = await w.done;
        assert.is(end.signal, 'SIGKILL', end.stderr);
        acknowledged.push(...w.tokens);
        // Read-only first: every acknowledged leg is there, whatever the crash left.
        await withRegistry(reg, async (r) => {
          const tokens = new Set((await r.legs()).map((l) => l.token));
          for (const tok of acknowledged) assert.ok(tokens.has(tok), `acknowledged ${tok} lost in round ${round}`);
          const report = await r.verify();
          // An append killed between its log write and its checkpoint write leaves unsealed
          // (never acknowledged) entries; nothing else may be wrong.
          for (const f of report.findings) assert.is(f.kind, 'unsealed', JSON.stringify(f));
        });
        // Reopening for write repairs the tail and seals; then the log verifies.
        await withRegistry(reg, async (r) => {
          await r.checkpoint();
          const report = await r.verify();
          assert.ok(report.intact, JSON.stringify(report.findings.slice(0, 3)));
          assert.is(report.warnings.length, 0);
          const tokens = new Set((await r.legs()).map((l) => l.token));
          for (const tok of acknowledged) assert.ok(tokens.has(tok), `acknowledged ${tok} lost after repair`);
        });
      }
      assert.ok(acknowledged.length >= 12);
    } finally {
      await reg.cleanup();
    }
  });

  t.run();
}
