import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatVerifierKey, generateSignerKey, signCheckpoint, verifierOf } from '../../lib/registry/checkpoint.js';
import { decodeEvent, encodeEvent, EventError, newToken, normalizeTime, validateEvent } from '../../lib/registry/events.js';
import type { RegistryEvent } from '../../lib/registry/events.js';
import { TreeBuilder, leafHash } from '../../lib/registry/merkle.js';
import { verifyLog } from '../../lib/registry/verify.js';

const t = suite('registry: events and semantic verification');
const isEventError = (err: unknown): boolean => err instanceof EventError;

t('tokens: 26 lowercase base32 characters, 128 random bits, unique', () => {
  const tokens = new Set(Array.from({ length: 2000 }, () => newToken()));
  assert.is(tokens.size, 2000);
  for (const tok of tokens) assert.match(tok, /^[a-z2-7]{25}[aeimquy4]$/);
});

t('times: RFC 3339 with offset in, UTC milliseconds out', () => {
  assert.is(normalizeTime('2025-01-31T09:30:00Z'), '2025-01-31T09:30:00.000Z');
  assert.is(normalizeTime('2025-01-31T09:30:00.25-05:30'), '2025-01-31T15:00:00.250Z');
  for (const bad of ['2025-01-31', '2025-01-31T09:30:00', '2025-02-29T00:00:00Z', '2025-01-31T24:00:00Z', 'now', '31/01/2025 09:30Z']) {
    assert.throws(() => normalizeTime(bad), isEventError, bad);
  }
});

t('events: exact fields, formats and canonical leaves', () => {
  const joined: RegistryEvent = { type: 'leg.joined', token: newToken(), meeting: 'm', participant: 'Zoë', leg: 'pstn', joined: '2025-01-01T00:00:00.000Z' };
  const leaf = encodeEvent(joined);
  assert.is(Buffer.from(leaf).toString('utf8'), `{"joined":"2025-01-01T00:00:00.000Z","leg":"pstn","meeting":"m","participant":"Zoë","token":"${joined.token}","type":"leg.joined"}`);
  assert.equal(decodeEvent(leaf), joined);
  const bad: unknown[] = [
    { ...joined, leg: 'fax' },
    { ...joined, extra: 1 },
    { ...joined, joined: '2025-01-01T00:00:00Z' },
    { ...joined, participant: ' padded' },
    { ...joined, participant: 42 },
    { ...joined, token: 'short' },
    { type: 'leg.deleted', token: joined.token },
    { type: 'meeting.created', meeting: 'm' },
    { type: 'leg.content', token: joined.token, reference: 'f'.repeat(63), recorded: '2025-01-01T00:00:00.000Z' },
    { type: 'leg.content', token: joined.token, reference: 'F'.repeat(64), recorded: '2025-01-01T00:00:00.000Z' },
    { type: 'leg.content', token: joined.token, reference: 'f'.repeat(64) },
    [joined],
    null,
  ];
  for (const b of bad) assert.throws(() => validateEvent(b), isEventError, JSON.stringify(b));
  const text = Buffer.from(leaf).toString('utf8');
  for (const raw of [text.replace(',', ', '), `\ufeff${text}`, text.replace('"Zoë"', '"Zo\\u00eb"')]) {
    assert.throws(() => decodeEvent(Buffer.from(raw, 'utf8')), isEventError, raw);
  }
  assert.throws(() => decodeEvent(new Uint8Array([0x7b, 0xff, 0x7d])), /UTF-8/);
});

t('verifyLog flags history contradictions even without checkpoints (and unsealed entries)', () => {
  const key = generateSignerKey('test.example/log');
  const tok = newToken();
  const events: RegistryEvent[] = [
    { type: 'leg.joined', token: tok, meeting: 'ghost', participant: 'P', leg: 'app', joined: '2025-01-01T00:00:00.000Z' },
    { type: 'leg.left', token: newToken(), left: '2025-01-01T00:00:01.000Z' },
    { type: 'meeting.created', meeting: 'm', created: '2025-01-01T00:00:02.000Z' },
    { type: 'meeting.created', meeting: 'm', created: '2025-01-01T00:00:03.000Z' },
    { type: 'leg.joined', token: tok, meeting: 'm', participant: 'Q', leg: 'sip', joined: '2025-01-01T00:00:04.000Z' },
  ];
  const entries = events.map(encodeEvent);
  const tree = new TreeBuilder();
  const notes = entries.map((e) => {
    tree.appendLeafHash(leafHash(e));
    return signCheckpoint({ origin: key.name, size: tree.size, rootHash: tree.root() }, key);
  });
  const description = { origin: key.name, verifierKey: formatVerifierKey(verifierOf(key)) };
  const report = verifyLog({ location: 'mem', description, entries, tornTailBytes: 0, checkpoints: notes.map((note, position) => ({ position, note })) });
  assert.equal(report.findings.map((f) => [f.kind, f.index]), [['inconsistent', 0], ['inconsistent', 1], ['duplicated', 3], ['duplicated', 4]]);
  const unsealed = verifyLog({ location: 'mem', description, entries, tornTailBytes: 0, checkpoints: [] });
  assert.equal(unsealed.findings.filter((f) => f.kind === 'unsealed').map((f) => f.index), [0]);
  // Two signed checkpoints of one size with different roots: a fork.
  const forked = signCheckpoint({ origin: key.name, size: 2, rootHash: new Uint8Array(32) }, key);
  const fork = verifyLog({ location: 'mem', description, entries, tornTailBytes: 0, checkpoints: [...notes, forked].map((note, position) => ({ position, note })) });
  assert.ok(fork.findings.some((f) => f.kind === 'checkpoint-fork'));
});

t.run();
