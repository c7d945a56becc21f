/**
 * Full verification of a registry log: every entry is the canonical JSON of a valid event,
 * the event history makes sense, every stored checkpoint is signed by the registry's key, and
 * the log matches every checkpoint (stored, or given from outside).
 *
 * Locating the first bad entry when an attacker also rewrote everything after it: the store
 * issues one signed checkpoint per tree size, so the smallest checkpoint whose root differs
 * from the log's root at that size names the entry: all earlier sizes matched, so the first
 * difference is the entry just before that size. Which kind of change it was (an entry
 * inserted or duplicated, moved, deleted or altered) is found by testing each hypothesis
 * against that checkpoint's root: e.g. the log with that entry removed matches → inserted.
 *
 * What verification cannot see: an attacker who cuts the log short *and* removes the later
 * checkpoints leaves a consistent shorter registry. A checkpoint kept outside the registry
 * (`externalCheckpoint`, e.g. one cited in an earlier report) exposes that.
 */
import { encodeBase64, NoteError, openCheckpoint, parseVerifierKey } from './checkpoint.js';
import type { VerifierKey } from './checkpoint.js';
import { decodeEvent, EventError } from './events.js';
import type { RegistryEvent } from './events.js';
import { equalBytes, leafHash, TreeBuilder } from './merkle.js';
import type { LogSnapshot } from './store.js';

export type FindingKind =
  | 'malformed'
  | 'altered'
  | 'deleted'
  | 'duplicated'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'unsealed'
  | 'inconsistent'
  | 'checkpoint-invalid'
  | 'checkpoint-fork'
  | 'key-mismatch';

/** What each finding kind means; the compiler keeps this complete. */
export const FINDING_INFO: Record<FindingKind, { title: string; order: number }> = {
  malformed: { title: 'entry is not the canonical JSON of a valid event (bytes changed)', order: 0 },
  duplicated: { title: 'entry repeats an earlier or later entry', order: 1 },
  inserted: { title: 'entry was never committed by a checkpoint', order: 2 },
  reordered: { title: 'entry is out of its committed place', order: 3 },
  deleted: { title: 'a committed entry is missing', order: 4 },
  altered: { title: 'entry differs from what the checkpoints committed to', order: 5 },
  truncated: { title: 'log ends before the size a checkpoint committed to', order: 6 },
  unsealed: { title: 'entries are not covered by any signed checkpoint', order: 7 },
  inconsistent: { title: 'event contradicts the history before it', order: 8 },
  'checkpoint-invalid': { title: 'a checkpoint is unreadable, unsigned or for another log', order: 9 },
  'checkpoint-fork': { title: 'two signed checkpoints of the same size disagree', order: 10 },
  'key-mismatch': { title: "the registry's key is not the trusted key", order: 11 },
};

export interface Finding {
  kind: FindingKind;
  /** The log entry concerned (0-based), or null for findings about checkpoints or keys. */
  index: number | null;
  /** Position in the checkpoint history, for checkpoint findings. */
  checkpoint?: number;
  detail: string;
}

export interface VerifyOptions {
  /** A signed checkpoint note from outside the registry (e.g. cited in a report). */
  externalCheckpoint?: { note: string; label: string };
  /** The verifier key the registry is expected to have (published out of band). */
  trustedVerifierKey?: string;
}

export interface VerifyReport {
  location: string;
  origin: string;
  verifierKey: string;
  /** Complete entries in the log. */
  size: number;
  /** Root of the whole log now (base64). */
  rootHash: string;
  /** Checkpoints whose signature verified (stored + external). */
  checkpointsVerified: number;
  /** Largest verified checkpoint size (0 when none). */
  committedSize: number;
  intact: boolean;
  /** Sorted: entry findings by index first, then checkpoint and key findings. */
  findings: Finding[];
  /** The first bad entry (smallest index), or the first finding when none names an entry. */
  first: Finding | null;
  /** Not tampering: e.g. an incomplete last line left by a crash. */
  warnings: string[];
}

interface Anchor {
  size: number;
  root: Uint8Array;
  label: string;
}

const HYPOTHESIS_BUDGET = 4_000_000;

/** Verify a snapshot of a registry (pure: no I/O). */
export function verifyLog(snapshot: LogSnapshot, options: VerifyOptions = {}): VerifyReport {
  const findings: Finding[] = [];
  const warnings: string[] = [];
  const { entries, description } = snapshot;
  const key: VerifierKey = parseVerifierKey(description.verifierKey);

  if (options.trustedVerifierKey !== undefined && options.trustedVerifierKey.trim() !== description.verifierKey) {
    findings.push({ kind: 'key-mismatch', index: null, detail: `registry key ${description.verifierKey} is not the trusted key ${options.trustedVerifierKey.trim()}` });
  }
  if (snapshot.tornTailBytes > 0) {
    warnings.push(`log ends with an incomplete line of ${snapshot.tornTailBytes} bytes (an interrupted append, never acknowledged; the next write removes it)`);
  }

  // Checkpoints: signature, origin.
  const anchors: Anchor[] = [];
  for (const record of snapshot.checkpoints) {
    const label = `checkpoint #${record.position}`;
    if (record.note === null) {
      findings.push({ kind: 'checkpoint-invalid', index: null, checkpoint: record.position, detail: `${label}: ${record.problem ?? 'unreadable'}` });
      continue;
    }
    const anchor = openAnchor(record.note, key, description.origin, label);
    if (typeof anchor === 'string') findings.push({ kind: 'checkpoint-invalid', index: null, checkpoint: record.position, detail: anchor });
    else anchors.push(anchor);
  }
  if (options.externalCheckpoint) {
    const label = `external checkpoint ${options.externalCheckpoint.label}`;
    const anchor = openAnchor(options.externalCheckpoint.note, key, description.origin, label);
    if (typeof anchor === 'string') findings.push({ kind: 'checkpoint-invalid', index: null, detail: anchor });
    else anchors.push(anchor);
  }
  const bySize = new Map<number, Anchor>();
  for (const a of anchors) {
    const seen = bySize.get(a.size);
    if (!seen) bySize.set(a.size, a);
    else if (!equalBytes(seen.root, a.root)) {
      findings.push({ kind: 'checkpoint-fork', index: null, detail: `${seen.label} and ${a.label} both sign size ${a.size} with different roots` });
    }
  }
  const ordered = [...bySize.values()].sort((x, y) => x.size - y.size);
  const committedSize = ordered.length > 0 ? ordered[ordered.length - 1]!.size : 0;

  // Entries: canonical JSON of valid events, and a history that makes sense.
  findings.push(...checkEntries(entries));

  // The log against the checkpoints.
  const hashes = entries.map((e) => leafHash(e));
  const tree = new TreeBuilder();
  let good = new TreeBuilder();
  let mismatch = false;
  for (const anchor of ordered) {
    if (anchor.size > hashes.length) break;
    while (tree.size < anchor.size) tree.appendLeafHash(hashes[tree.size]!);
    if (equalBytes(tree.root(), anchor.root)) {
      good = tree.clone();
      continue;
    }
    findings.push(classify({ entries, hashes, good, anchor, committedSize }));
    mismatch = true;
    break;
  }
  if (!mismatch && committedSize > entries.length) {
    findings.push({
      kind: 'truncated',
      index: entries.length,
      detail: `log has ${entries.length} entries but ${ordered[ordered.length - 1]!.label} committed to ${committedSize}; entries #${entries.length}..#${committedSize - 1} are missing`,
    });
  }
  if (!mismatch && entries.length > committedSize) {
    findings.push({
      kind: 'unsealed',
      index: committedSize,
      detail: `entries #${committedSize}..#${entries.length - 1} are covered by no signed checkpoint (checkpoints removed, or an append interrupted before sealing: any write, e.g. earmark registry checkpoint, seals it)`,
    });
  }
  while (tree.size < hashes.length) tree.appendLeafHash(hashes[tree.size]!);

  findings.sort(compareFindings);
  const first = findings.find((f) => f.index !== null) ?? findings[0] ?? null;
  return {
    location: snapshot.location,
    origin: description.origin,
    verifierKey: description.verifierKey,
    size: entries.length,
    rootHash: encodeBase64(tree.root()),
    checkpointsVerified: anchors.length,
    committedSize,
    intact: findings.length === 0,
    findings,
    first,
    warnings,
  };
}

function openAnchor(note: string, key: VerifierKey, origin: string, label: string): Anchor | string {
  try {
    const cp = openCheckpoint(note, key);
    if (cp.origin !== origin) return `${label} is for log ${cp.origin}, not ${origin}`;
    return { size: cp.size, root: cp.rootHash, label: `${label} (size ${cp.size})` };
  } catch (err) {
    return `${label}: ${err instanceof NoteError ? err.message : String(err)}`;
  }
}

function compareFindings(a: Finding, b: Finding): number {
  const ai = a.index ?? Number.MAX_SAFE_INTEGER;
  const bi = b.index ?? Number.MAX_SAFE_INTEGER;
  if (ai !== bi) return ai - bi;
  if (a.kind !== b.kind) return FINDING_INFO[a.kind].order - FINDING_INFO[b.kind].order;
  return (a.checkpoint ?? 0) - (b.checkpoint ?? 0);
}

/** Per-entry checks: canonical valid events; no event contradicting the history before it. */
function checkEntries(entries: readonly Uint8Array[]): Finding[] {
  const findings: Finding[] = [];
  const meetings = new Map<string, number>();
  const joined = new Map<string, number>();
  const left = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  entries.forEach((bytes, index) => {
    const text = Buffer.from(bytes).toString('latin1');
    const same = firstSeen.get(text);
    if (same === undefined) firstSeen.set(text, index);
    let event: RegistryEvent;
    try {
      event = decodeEvent(bytes);
    } catch (err) {
      findings.push({ kind: 'malformed', index, detail: `entry #${index}: ${err instanceof EventError ? err.message : String(err)}` });
      return;
    }
    if (same !== undefined) {
      findings.push({ kind: 'duplicated', index, detail: `entry #${index} repeats entry #${same} byte for byte` });
      return;
    }
    switch (event.type) {
      case 'meeting.created': {
        const prior = meetings.get(event.meeting);
        if (prior !== undefined) findings.push({ kind: 'duplicated', index, detail: `entry #${index} creates meeting ${event.meeting} again (first at #${prior})` });
        else meetings.set(event.meeting, index);
        break;
      }
      case 'leg.joined': {
        const prior = joined.get(event.token);
        if (prior !== undefined) findings.push({ kind: 'duplicated', index, detail: `entry #${index} issues token ${event.token} again (first at #${prior})` });
        else joined.set(event.token, index);
        if (!meetings.has(event.meeting)) findings.push({ kind: 'inconsistent', index, detail: `entry #${index}: leg joins meeting ${event.meeting}, which no earlier entry creates` });
        break;
      }
      case 'leg.left': {
        if (!joined.has(event.token)) findings.push({ kind: 'inconsistent', index, detail: `entry #${index}: token ${event.token} leaves but never joined before` });
        const prior = left.get(event.token);
        if (prior !== undefined) findings.push({ kind: 'duplicated', index, detail: `entry #${index}: token ${event.token} leaves again (first at #${prior})` });
        else left.set(event.token, index);
        break;
      }
      case 'leg.content':
        if (!joined.has(event.token)) findings.push({ kind: 'inconsistent', index, detail: `entry #${index}: content reference for token ${event.token}, which never joined before` });
        break;
      case 'key.rotated':
        break;
    }
  });
  return findings;
}

/**
 * The first checkpoint that disagrees with the log covers entries [a, b) beyond the last one
 * that agreed (b = a + 1 with per-size checkpoints). Test what change explains it.
 */
function classify(args: { entries: readonly Uint8Array[]; hashes: readonly Uint8Array[]; good: TreeBuilder; anchor: Anchor; committedSize: number }): Finding {
  const { entries, hashes, good, anchor, committedSize } = args;
  const a = good.size;
  const b = anchor.size;
  const n = hashes.length;
  const span = b - a;
  const matches = (sequence: readonly Uint8Array[]): boolean => {
    const t = good.clone();
    for (const h of sequence) t.appendLeafHash(h);
    return equalBytes(t.root(), anchor.root);
  };
  const where = span === 1 ? `entry #${a}` : `one of entries #${a}..#${b - 1}`;

  if (span * span * n <= HYPOTHESIS_BUDGET) {
    // Removing one entry in [a, b] restores the committed root: it was inserted there.
    if (b + 1 <= n) {
      for (let j = a; j <= b; j++) {
        const seq = [...hashes.slice(a, j), ...hashes.slice(j + 1, b + 1)];
        if (!matches(seq)) continue;
        const twin = entries.findIndex((e, k) => k !== j && Buffer.compare(e, entries[j]!) === 0);
        if (twin >= 0) return { kind: 'duplicated', index: j, detail: `entry #${j} repeats entry #${twin}; without it the log matches ${anchor.label}` };
        if (n <= committedSize) return { kind: 'reordered', index: j, detail: `entry #${j} was moved here from a later place; without it the log matches ${anchor.label}` };
        return { kind: 'inserted', index: j, detail: `entry #${j} was never committed; without it the log matches ${anchor.label}` };
      }
    }
    // An entry from elsewhere in the log belongs in [a, b): entries were moved.
    for (let j = a; j < b; j++) {
      for (let k = 0; k < n; k++) {
        if (k >= a && k < b) continue;
        const seq = hashes.slice(a, b);
        seq[j - a] = hashes[k]!;
        if (matches(seq)) return { kind: 'reordered', index: j, detail: `entry #${j} is out of place: ${anchor.label} committed the entry now at #${k} there` };
      }
      for (let k = j + 1; k < b; k++) {
        const seq = hashes.slice(a, b);
        [seq[j - a], seq[k - a]] = [seq[k - a]!, seq[j - a]!];
        if (matches(seq)) return { kind: 'reordered', index: j, detail: `entries #${j} and #${k} are swapped relative to ${anchor.label}` };
      }
    }
  }
  if (n < committedSize) {
    return { kind: 'deleted', index: a, detail: `${span === 1 ? `the entry committed at #${a} is missing` : `an entry committed at #${a}..#${b - 1} is missing`} (log has ${n} entries, checkpoints committed to ${committedSize}; first disagreement: ${anchor.label})` };
  }
  return { kind: 'altered', index: a, detail: `${where} differs from what ${anchor.label} committed to` };
}
