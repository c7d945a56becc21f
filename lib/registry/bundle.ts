/**
 * Inclusion-proof bundles: everything needed to check, offline and without the registry, that
 * an entry is in the log a signed checkpoint commits to (RFC 9162 §2.1.3 audit path + C2SP
 * signed checkpoint). A report cites its registry entries with these.
 */
import { decodeBase64Strict, encodeBase64, NoteError, openCheckpoint, parseVerifierKey } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { decodeEvent, EventError } from './events.js';
import type { RegistryEvent } from './events.js';
import { HASH_BYTES, inclusionProof, leafHash, verifyInclusion } from './merkle.js';

export const PROOF_BUNDLE_FORMAT = 'earmark.inclusion-proof/1';

export interface ProofBundle {
  format: typeof PROOF_BUNDLE_FORMAT;
  /** The entry: its canonical JSON text (the leaf is its UTF-8 bytes). */
  entry: string;
  /** 0-based leaf index. */
  index: number;
  /** Tree size of the checkpoint. */
  treeSize: number;
  /** Audit path, leaf to root, base64 SHA-256 hashes. */
  proof: string[];
  /** The signed checkpoint note (C2SP tlog-checkpoint in a signed note). */
  checkpoint: string;
  /** The log's checkpoint verifier key, `<origin>+<key id>+<base64>`. */
  publicKey: string;
}

export type ProofCheck =
  | { ok: true; event: RegistryEvent; checkpoint: Checkpoint; publicKey: string }
  | { ok: false; reason: string };

/** Build a bundle for leaf `index` of `entries` against a checkpoint note of `treeSize`. */
export function makeProofBundle(args: { entries: readonly Uint8Array[]; index: number; checkpoint: string; treeSize: number; publicKey: string }): ProofBundle {
  const hashes = args.entries.slice(0, args.treeSize).map((e) => leafHash(e));
  return {
    format: PROOF_BUNDLE_FORMAT,
    entry: new TextDecoder('utf-8', { fatal: true }).decode(args.entries[args.index]!),
    index: args.index,
    treeSize: args.treeSize,
    proof: inclusionProof(hashes, args.index, args.treeSize).map(encodeBase64),
    checkpoint: args.checkpoint,
    publicKey: args.publicKey,
  };
}

/**
 * Check a bundle with no access to the registry. Pass `trustedPublicKey` (the registry's
 * verifier key, obtained out of band) to also require the bundle's key to be that one.
 */
export function verifyProofBundle(bundle: unknown, options: { trustedPublicKey?: string } = {}): ProofCheck {
  const fail = (reason: string): ProofCheck => ({ ok: false, reason });
  if (typeof bundle !== 'object' || bundle === null) return fail('bundle is not a JSON object');
  const b = bundle as Partial<Record<keyof ProofBundle, unknown>>;
  if (b.format !== PROOF_BUNDLE_FORMAT) return fail(`format is not ${PROOF_BUNDLE_FORMAT}`);
  if (typeof b.entry !== 'string' || typeof b.checkpoint !== 'string' || typeof b.publicKey !== 'string') {
    return fail('entry, checkpoint and publicKey must be strings');
  }
  if (!Number.isSafeInteger(b.index) || !Number.isSafeInteger(b.treeSize)) return fail('index and treeSize must be integers');
  if (!Array.isArray(b.proof) || !b.proof.every((p) => typeof p === 'string')) return fail('proof must be an array of base64 strings');
  if (options.trustedPublicKey !== undefined && options.trustedPublicKey.trim() !== b.publicKey) {
    return fail('the bundle is signed by a key other than the trusted one');
  }
  let checkpoint: Checkpoint;
  try {
    const key = parseVerifierKey(b.publicKey);
    checkpoint = openCheckpoint(b.checkpoint, key);
    if (checkpoint.origin !== key.name) return fail(`checkpoint origin ${checkpoint.origin} is not the key's log ${key.name}`);
  } catch (err) {
    return fail(`checkpoint: ${err instanceof NoteError ? err.message : String(err)}`);
  }
  if (checkpoint.size !== b.treeSize) return fail(`treeSize ${String(b.treeSize)} is not the checkpoint's size ${checkpoint.size}`);
  const leaf = new TextEncoder().encode(b.entry);
  let event: RegistryEvent;
  try {
    event = decodeEvent(leaf);
  } catch (err) {
    return fail(`entry: ${err instanceof EventError ? err.message : String(err)}`);
  }
  let proof: Uint8Array[];
  try {
    proof = (b.proof as string[]).map((p) => decodeBase64Strict(p, 'proof hash'));
  } catch (err) {
    return fail(err instanceof NoteError ? err.message : String(err));
  }
  if (proof.some((p) => p.length !== HASH_BYTES)) return fail('proof hashes must be 32 bytes');
  if (!verifyInclusion(b.index as number, b.treeSize as number, leafHash(leaf), proof, checkpoint.rootHash)) {
    return fail(`the entry is not at index ${String(b.index)} of the tree the checkpoint signs`);
  }
  return { ok: true, event, checkpoint, publicKey: b.publicKey };
}
