/**
 * Merkle tree hashing, inclusion and consistency proofs exactly as RFC 6962 §2.1 / RFC 9162
 * §2.1 (SHA-256), so any outside verifier of Certificate-Transparency-style logs can check
 * ours.
 *
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH(D[n])  = SHA-256() for n = 0; leaf hash for n = 1; otherwise, with k the largest power
 *                of two below n: node(MTH(D[0:k]), MTH(D[k:n]))
 *
 * Sizes and indices are JavaScript numbers and must be safe integers; verifiers answer false
 * for anything else (including the uint64 values some probes use).
 */
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: the hash of one log entry. */
export function leafHash(entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest());
}

/** RFC 9162 §2.1.1: the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}

/** The root of the empty tree: SHA-256 of the empty string. */
export function emptyRoot(): Uint8Array {
  return new Uint8Array(createHash('sha256').digest());
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leafHashes[lo, hi). */
function subtreeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 0) return emptyRoot();
  if (n === 1) return leafHashes[lo]!;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leafHashes, lo, lo + k), subtreeRoot(leafHashes, lo + k, hi));
}

/** The Merkle tree hash of the first `size` leaves (default: all). */
export function treeRoot(leafHashes: readonly Uint8Array[], size = leafHashes.length): Uint8Array {
  checkSize(size, leafHashes.length);
  return subtreeRoot(leafHashes, 0, size);
}

/**
 * Incremental tree head: the roots of the perfect subtrees covering the leaves so far (a
 * "compact range"). Appending is O(log n) amortized and `root()` is O(log n), so the root at
 * every size of a log costs O(n log n) in one pass.
 */
export class TreeBuilder {
  #sizes: number[] = [];
  #hashes: Uint8Array[] = [];
  #count = 0;

  get size(): number {
    return this.#count;
  }

  appendLeafHash(hash: Uint8Array): void {
    this.#sizes.push(1);
    this.#hashes.push(hash);
    this.#count++;
    while (this.#sizes.length >= 2 && this.#sizes[this.#sizes.length - 1] === this.#sizes[this.#sizes.length - 2]) {
      const right = this.#hashes.pop()!;
      const left = this.#hashes.pop()!;
      const s = this.#sizes.pop()!;
      this.#sizes.pop();
      this.#sizes.push(2 * s);
      this.#hashes.push(nodeHash(left, right));
    }
  }

  /** The tree head now: the perfect subtrees folded from the right (RFC 9162 §2.1.1). */
  root(): Uint8Array {
    if (this.#count === 0) return emptyRoot();
    let acc = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) acc = nodeHash(this.#hashes[i]!, acc);
    return acc;
  }

  clone(): TreeBuilder {
    const copy = new TreeBuilder();
    copy.#sizes = [...this.#sizes];
    copy.#hashes = [...this.#hashes];
    copy.#count = this.#count;
    return copy;
  }
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path of leaf `index` in the tree of `size`. */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size = leafHashes.length): Uint8Array[] {
  checkSize(size, leafHashes.length);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${size} leaves`);
  }
  const proof: Uint8Array[] = [];
  const path = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, lo, lo + k);
      proof.push(subtreeRoot(leafHashes, lo + k, hi));
    } else {
      path(m - k, lo + k, hi);
      proof.push(subtreeRoot(leafHashes, lo, lo + k));
    }
  };
  path(index, 0, size);
  return proof;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): proves the tree of `oldSize` is a prefix of `newSize`. */
export function consistencyProof(leafHashes: readonly Uint8Array[], oldSize: number, newSize = leafHashes.length): Uint8Array[] {
  checkSize(newSize, leafHashes.length);
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
    throw new RangeError(`old size ${oldSize} is outside 0..${newSize}`);
  }
  const proof: Uint8Array[] = [];
  if (oldSize === 0 || oldSize === newSize) return proof;
  const subproof = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) proof.push(subtreeRoot(leafHashes, lo, hi));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, lo, lo + k, whole);
      proof.push(subtreeRoot(leafHashes, lo + k, hi));
    } else {
      subproof(m - k, lo + k, hi, false);
      proof.push(subtreeRoot(leafHashes, lo, lo + k));
    }
  };
  subproof(oldSize, 0, newSize, true);
  return proof;
}

/**
 * RFC 9162 §2.1.3.2: true when `proof` shows the leaf with hash `leaf` at `index` in the tree
 * of `size` leaves whose head is `root`.
 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== HASH_BYTES || root.length !== HASH_BYTES) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        // A left-edge node on the right border: climb until it is a right child.
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` shows the tree of `size1` leaves with head `root1` is a
 * prefix of the tree of `size2` leaves with head `root2`. Equal sizes need an empty proof and
 * equal heads; a proof from the empty tree proves nothing and is rejected.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) return false;
  if (size1 === size2) return size1 > 0 && proof.length === 0 && equalBytes(root1, root2);
  if (size1 === 0 || proof.length === 0) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function checkSize(size: number, available: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > available) {
    throw new RangeError(`tree size ${size} is outside 0..${available}`);
  }
}
