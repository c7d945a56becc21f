import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  TreeBuilder,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../lib/registry/merkle.js';

const t = suite('registry: RFC 6962 / 9162 Merkle tree');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const b64 = (s: string | null | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64'));

// Known answers from transparency-dev/merkle, testonly/constants.go (LeafInputs, RootHashes,
// NodeHashes; commit 417fb0c314750d94e53942e9f92e79b6d35915db): the eight leaf inputs, the
// root of the tree of each size 0..8, and the leaf hashes.
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const LEAF_HASHES = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
const leaves = LEAF_INPUTS.map((h) => leafHash(Buffer.from(h, 'hex')));

interface InclusionProbe { file: string; leafIdx: number; treeSize: number; root: string | null; leafHash: string | null; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyProbe { file: string; size1: number; size2: number; root1: string | null; root2: string | null; proof: string[] | null; desc: string; wantErr: boolean }
// transparency-dev/merkle testdata/inclusion and testdata/consistency probe files, gathered
// verbatim into one JSON file (see its "source" field).
const probes = JSON.parse(readFileSync(new URL('./fixtures/merkle-probes.json', import.meta.url), 'utf8')) as {
  source: string;
  inclusion: InclusionProbe[];
  consistency: ConsistencyProbe[];
};

t('leaf hashes and the roots of trees of size 0..8 match transparency-dev/merkle', () => {
  assert.equal(leaves.map(hex), LEAF_HASHES);
  for (let n = 0; n <= 8; n++) assert.is(hex(treeRoot(leaves, n)), ROOTS[n], `size ${n}`);
  assert.is(hex(emptyRoot()), ROOTS[0]);
  const builder = new TreeBuilder();
  assert.is(hex(builder.root()), ROOTS[0]);
  for (let n = 1; n <= 8; n++) {
    builder.appendLeafHash(leaves[n - 1]!);
    assert.is(hex(builder.root()), ROOTS[n], `incremental size ${n}`);
  }
});

t('incremental roots equal recursive roots for sizes up to 70', () => {
  const many = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from([i, i * 7])));
  const builder = new TreeBuilder();
  for (let n = 1; n <= many.length; n++) {
    builder.appendLeafHash(many[n - 1]!);
    assert.is(hex(builder.root()), hex(treeRoot(many, n)), `size ${n}`);
  }
});

t(`every inclusion probe of transparency-dev/merkle (${probes.inclusion.length})`, () => {
  assert.ok(probes.inclusion.length >= 90);
  for (const p of probes.inclusion) {
    const ok = verifyInclusion(p.leafIdx, p.treeSize, b64(p.leafHash), (p.proof ?? []).map(b64), b64(p.root));
    assert.is(ok, !p.wantErr, `${p.file}: ${p.desc}`);
  }
});

t(`every consistency probe of transparency-dev/merkle (${probes.consistency.length})`, () => {
  assert.ok(probes.consistency.length >= 90);
  for (const p of probes.consistency) {
    const ok = verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), b64(p.root1), b64(p.root2));
    assert.is(ok, !p.wantErr, `${p.file}: ${p.desc}`);
  }
});

t('our proofs equal the published happy-path proofs', () => {
  for (const p of probes.inclusion.filter((x) => x.desc === 'happy path')) {
    assert.equal(inclusionProof(leaves, p.leafIdx, p.treeSize).map((x) => Buffer.from(x).toString('base64')), p.proof ?? [], p.file);
  }
  for (const p of probes.consistency.filter((x) => x.desc === 'happy path')) {
    assert.equal(consistencyProof(leaves, p.size1, p.size2).map((x) => Buffer.from(x).toString('base64')), p.proof ?? [], p.file);
  }
});

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const c = new Uint8Array(b);
  c[Math.floor(bit / 8) % c.length]! ^= 1 << bit % 8;
  return c;
}

// A tree larger than the vectors, for the corruption probes on our own proofs.
const big = Array.from({ length: 37 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));

t('inclusion proofs verify for every index of every size; corruption probes fail', () => {
  const junk = leafHash(Buffer.from('junk'));
  for (let size = 1; size <= big.length; size++) {
    const root = treeRoot(big, size);
    for (let i = 0; i < size; i++) {
      const proof = inclusionProof(big, i, size);
      assert.ok(verifyInclusion(i, size, big[i]!, proof, root), `${i}/${size}`);
      const bad = (what: string, ok: boolean) => assert.not.ok(ok, `${what} accepted at ${i}/${size}`);
      if (i + 1 < size) bad('index+1', verifyInclusion(i + 1, size, big[i]!, proof, root));
      if (i > 0) bad('index-1', verifyInclusion(i - 1, size, big[i]!, proof, root));
      bad('size*2', verifyInclusion(i, size * 2, big[i]!, proof, root));
      if (Math.floor(size / 2) > i && Math.floor(size / 2) !== size) bad('size/2', verifyInclusion(i, Math.floor(size / 2), big[i]!, proof, root));
      bad('index=size', verifyInclusion(size, size, big[i]!, proof, root));
      bad('wrong leaf', verifyInclusion(i, size, junk, proof, root));
      bad('flipped root', verifyInclusion(i, size, big[i]!, proof, flipBit(root, i)));
      bad('flipped leaf', verifyInclusion(i, size, flipBit(big[i]!, 7), proof, root));
      for (let k = 0; k < proof.length; k++) {
        const flipped = proof.map((p, j) => (j === k ? flipBit(p, 3 + k) : p));
        bad(`flipped proof[${k}]`, verifyInclusion(i, size, big[i]!, flipped, root));
      }
      if (proof.length > 0) {
        bad('missing last', verifyInclusion(i, size, big[i]!, proof.slice(0, -1), root));
        bad('missing first', verifyInclusion(i, size, big[i]!, proof.slice(1), root));
      }
      bad('extra trailing', verifyInclusion(i, size, big[i]!, [...proof, junk], root));
      bad('extra leading', verifyInclusion(i, size, big[i]!, [junk, ...proof], root));
      bad('trailing root', verifyInclusion(i, size, big[i]!, [...proof, root], root));
    }
  }
});

t('consistency proofs verify for every pair of sizes; corruption probes fail', () => {
  const junk = leafHash(Buffer.from('junk'));
  for (let n = 2; n <= big.length; n++) {
    const root2 = treeRoot(big, n);
    for (let m = 1; m < n; m++) {
      const root1 = treeRoot(big, m);
      const proof = consistencyProof(big, m, n);
      assert.ok(verifyConsistency(m, n, proof, root1, root2), `${m}->${n}`);
      const bad = (what: string, ok: boolean) => assert.not.ok(ok, `${what} accepted at ${m}->${n}`);
      if (m + 1 < n) bad('size1+1', verifyConsistency(m + 1, n, proof, root1, root2));
      if (m > 1) bad('size1-1', verifyConsistency(m - 1, n, proof, root1, root2));
      bad('size2*2', verifyConsistency(m, n * 2, proof, root1, root2));
      if (Math.floor(n / 2) > m) bad('size2/2', verifyConsistency(m, Math.floor(n / 2), proof, root1, root2));
      bad('swapped roots', verifyConsistency(m, n, proof, root2, root1));
      bad('flipped root1', verifyConsistency(m, n, proof, flipBit(root1, 5), root2));
      bad('flipped root2', verifyConsistency(m, n, proof, root1, flipBit(root2, 9)));
      for (let k = 0; k < proof.length; k++) {
        bad(`flipped proof[${k}]`, verifyConsistency(m, n, proof.map((p, j) => (j === k ? flipBit(p, k) : p)), root1, root2));
      }
      bad('missing last', verifyConsistency(m, n, proof.slice(0, -1), root1, root2));
      bad('missing first', verifyConsistency(m, n, proof.slice(1), root1, root2));
      bad('extra trailing', verifyConsistency(m, n, [...proof, junk], root1, root2));
      bad('extra leading', verifyConsistency(m, n, [junk, ...proof], root1, root2));
      bad('empty proof', verifyConsistency(m, n, [], root1, root2));
      // A proof for a different old tree proves nothing about this one.
      if (m + 1 < n) bad('proof of other size', verifyConsistency(m, n, consistencyProof(big, m + 1, n), root1, root2));
    }
  }
  assert.ok(verifyConsistency(5, 5, [], treeRoot(big, 5), treeRoot(big, 5)));
  assert.not.ok(verifyConsistency(5, 5, [junk], treeRoot(big, 5), treeRoot(big, 5)));
  assert.not.ok(verifyConsistency(6, 5, [], treeRoot(big, 6), treeRoot(big, 5)));
});

t('node hash is SHA-256(0x01 || left || right); proof helpers reject bad arguments', () => {
  assert.is(hex(nodeHash(leaves[0]!, leaves[1]!)), ROOTS[2]);
  assert.throws(() => inclusionProof(leaves, 8));
  assert.throws(() => inclusionProof(leaves, 0, 9));
  assert.throws(() => consistencyProof(leaves, 9, 8));
  assert.not.ok(verifyInclusion(2 ** 60, 2 ** 61, leaves[0]!, [], ROOTS[0] as never));
});

t.run();
