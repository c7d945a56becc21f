/**
 * The storage interface of the registry log, and the sealing rule every store applies inside
 * its append lock / transaction:
 *
 * 1. the last stored checkpoint must verify with the signing key and match the log's prefix
 *    of its size (otherwise the log was altered: refuse, so we never sign two inconsistent
 *    checkpoints, c2sp.org/tlog-checkpoint "Signatures");
 * 2. complete entries after it (an append interrupted between the log write and the
 *    checkpoint write) must be valid events; they are sealed with the new ones;
 * 3. one signed checkpoint is issued for every new tree size, so verification can name the
 *    first entry that differs from what was committed.
 */
import { InputError } from '../errors.js';
import { formatVerifierKey, NoteError, openCheckpoint, signCheckpoint, verifierOf } from './checkpoint.js';
import type { SignerKey } from './checkpoint.js';
import { decodeEvent } from './events.js';
import { equalBytes, leafHash, TreeBuilder } from './merkle.js';

/** Identity of a registry: the log origin and the checkpoint verifier key. */
export interface RegistryDescription {
  /** Log origin (first checkpoint line) and checkpoint key name. */
  origin: string;
  /** Checkpoint verifier key, `<origin>+<key id>+<base64>` (signed-note / sumdb format). */
  verifierKey: string;
}

/** One record of the store's checkpoint history, in storage order. */
export interface StoredCheckpoint {
  /** 0-based position in the store's checkpoint history. */
  position: number;
  /** The signed note, or null when the stored record is unreadable. */
  note: string | null;
  /** Why the record is unreadable. */
  problem?: string;
}

/** Everything a verifier reads, taken consistently (under the store's lock). */
export interface LogSnapshot {
  location: string;
  description: RegistryDescription;
  /** Complete entries: the exact bytes hashed as leaves. */
  entries: Uint8Array[];
  /** Bytes of an incomplete last line (a torn append), ignored. */
  tornTailBytes: number;
  checkpoints: StoredCheckpoint[];
}

/** Given the current entries, the new leaves to append (may be empty). Runs under the lock. */
export type AppendPlanner<T> = (current: readonly Uint8Array[]) => { leaves: Uint8Array[]; result: T };

export interface AppendResult<T> {
  /** Index of the first new leaf. */
  firstIndex: number;
  /** Tree size after the append. */
  size: number;
  /** The latest signed checkpoint (covers the whole log). */
  checkpoint: string;
  /** What the planner returned. */
  result: T;
}

export interface RegistryStore {
  /** Path or URL (password removed), for messages. */
  readonly location: string;
  /** Create the registry if it does not exist; returns its identity. */
  init(options?: { origin?: string }): Promise<RegistryDescription>;
  /** The registry's identity; InputError when there is no readable registry. */
  describe(): Promise<RegistryDescription>;
  /** Number of complete entries. */
  size(): Promise<number>;
  /** Entries [start, end) as stored. */
  read(start?: number, end?: number): Promise<Uint8Array[]>;
  /** The checkpoint history in storage order. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Entries, checkpoints and identity read together. */
  snapshot(): Promise<LogSnapshot>;
  /**
   * Append durably and atomically with respect to other writers: plan under the lock, write,
   * seal with signed checkpoints; resolves only when entries and checkpoints are durable.
   * Creates the registry first when it does not exist.
   */
  append<T>(planner: AppendPlanner<T>): Promise<AppendResult<T>>;
  close(): Promise<void>;
}

/**
 * Inside the lock: check the log against its last checkpoint and return the signed notes for
 * tree sizes (last checkpoint size, entries + new leaves]. Throws InputError naming the store
 * when the log does not extend the last checkpoint.
 */
export function sealNotes(args: {
  location: string;
  description: RegistryDescription;
  signer: SignerKey;
  entries: readonly Uint8Array[];
  /** The last record of the checkpoint history, or null when there is none. */
  lastCheckpoint: StoredCheckpoint | null;
  newLeaves: readonly Uint8Array[];
}): string[] {
  const { location, description, signer, entries, newLeaves } = args;
  if (formatVerifierKey(verifierOf(signer)) !== description.verifierKey) {
    throw new InputError(location, "the signing key does not match the registry's verifier key");
  }
  let sealedSize = 0;
  let sealedRoot: Uint8Array | null = null;
  if (args.lastCheckpoint !== null) {
    try {
      const { note, problem } = args.lastCheckpoint;
      if (note === null) throw new NoteError(problem ?? 'unreadable');
      const cp = openCheckpoint(note, verifierOf(signer));
      if (cp.origin !== description.origin) throw new NoteError(`origin ${cp.origin} is not ${description.origin}`);
      sealedSize = cp.size;
      sealedRoot = cp.rootHash;
    } catch (err) {
      throw new InputError(location, `last checkpoint is invalid (${err instanceof Error ? err.message : String(err)}); refusing to append; run earmark registry verify`);
    }
  }
  if (sealedSize > entries.length) {
    throw new InputError(location, `log has ${entries.length} entries but its last checkpoint covers ${sealedSize}; refusing to append; run earmark registry verify`);
  }
  for (let i = sealedSize; i < entries.length; i++) {
    try {
      decodeEvent(entries[i]!);
    } catch (err) {
      throw new InputError(location, `unsealed entry #${i} is invalid (${err instanceof Error ? err.message : String(err)}); refusing to append; run earmark registry verify`);
    }
  }
  const tree = new TreeBuilder();
  for (let i = 0; i < sealedSize; i++) tree.appendLeafHash(leafHash(entries[i]!));
  if (sealedRoot !== null && !equalBytes(tree.root(), sealedRoot)) {
    throw new InputError(location, `log differs from its last signed checkpoint (size ${sealedSize}); refusing to append; run earmark registry verify`);
  }
  const notes: string[] = [];
  for (const leaf of [...entries.slice(sealedSize), ...newLeaves]) {
    tree.appendLeafHash(leafHash(leaf));
    notes.push(signCheckpoint({ origin: description.origin, size: tree.size, rootHash: tree.root() }, signer));
  }
  return notes;
}

/** Is `location` a PostgreSQL URL? */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}
