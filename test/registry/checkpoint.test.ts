import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ed25519KeyId,
  formatCheckpoint,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  NoteError,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseSignedNote,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  verifierOf,
} from '../../lib/registry/checkpoint.js';
import { treeRoot, leafHash } from '../../lib/registry/merkle.js';

const t = suite('registry: C2SP signed notes and checkpoints');
const isNoteError = (err: unknown): boolean => err instanceof NoteError;

// The example key pair and note of golang.org/x/mod/sumdb/note (its package documentation and
// note_test.go). Ed25519 is deterministic, so our signature must equal theirs byte for byte.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

t('signed-note known answer: key ID, key texts and signature equal the Go reference', () => {
  const signer = parseSignerKey(GO_SKEY);
  const verifier = parseVerifierKey(GO_VKEY);
  assert.is(signer.keyId, 0xc74f20a3);
  assert.is(ed25519KeyId('PeterNeumann', verifier.publicKey), 0xc74f20a3);
  assert.is(formatVerifierKey(verifierOf(signer)), GO_VKEY);
  assert.is(formatSignerKey(signer), GO_SKEY);
  assert.is(signNote(GO_TEXT, signer), GO_NOTE);
  assert.is(openNote(GO_NOTE, verifier), GO_TEXT);
});

t('a changed text, signature, name or key ID fails; other keys’ signatures are ignored', () => {
  const verifier = parseVerifierKey(GO_VKEY);
  assert.throws(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), verifier), isNoteError);
  assert.throws(() => openNote(GO_NOTE.replace('x08go', 'x08gp'), verifier), isNoteError);
  assert.throws(() => openNote(GO_NOTE.replace('— PeterNeumann', '— PeterNeumanN'), verifier), isNoteError);
  const other = generateSignerKey('other.example/log');
  const cosigned = `${GO_NOTE}${signNote(GO_TEXT, other).split('\n\n')[1]}`;
  assert.is(openNote(cosigned, verifier), GO_TEXT);
  assert.is(openNote(cosigned, verifierOf(other)), GO_TEXT);
  assert.is(parseSignedNote(cosigned).signatures.length, 2);
  assert.throws(() => openNote(signNote(GO_TEXT, other), verifier), isNoteError);
  // Same name, different key: its ID differs, so the note is "not signed by" ours.
  const impostor = generateSignerKey('PeterNeumann');
  assert.throws(() => openNote(signNote(GO_TEXT, impostor), verifier), /not signed by/);
});

t('malformed notes and keys are rejected', () => {
  for (const bad of [GO_TEXT, GO_NOTE.slice(0, -1), GO_NOTE.replace('—', '-'), GO_NOTE.replace('\n\n', '\n'), `a\tb\n${GO_NOTE}`, GO_NOTE.replace(' x08', '  x08')]) {
    assert.throws(() => openNote(bad, parseVerifierKey(GO_VKEY)), isNoteError, JSON.stringify(bad.slice(0, 30)));
  }
  for (const bad of ['', 'PeterNeumann+c74f20a3', 'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'PeterNeumann+c74f20a3+AhPc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW']) {
    assert.throws(() => parseVerifierKey(bad), isNoteError, bad);
  }
  assert.throws(() => parseSignerKey(GO_VKEY), isNoteError);
  assert.throws(() => signNote('no newline', parseSignerKey(GO_SKEY)), isNoteError);
  assert.throws(() => generateSignerKey('has space'), isNoteError);
  assert.throws(() => generateSignerKey('has+plus'), isNoteError);
});

t('checkpoint body: origin, decimal size, base64 root; sign, open, tamper', () => {
  const key = generateSignerKey('example.com/log42');
  const root = treeRoot([leafHash(new Uint8Array([1]))]);
  const note = signCheckpoint({ origin: key.name, size: 1, rootHash: root }, key);
  const [origin, size, rootLine] = note.split('\n');
  assert.is(origin, 'example.com/log42');
  assert.is(size, '1');
  assert.is(rootLine, Buffer.from(root).toString('base64'));
  assert.match(note, /\n\n— example\.com\/log42 [A-Za-z0-9+/]+=*\n$/);
  const cp = openCheckpoint(note, verifierOf(key));
  assert.is(cp.size, 1);
  assert.equal([...cp.rootHash], [...root]);
  assert.throws(() => openCheckpoint(note.replace('\n1\n', '\n2\n'), verifierOf(key)), isNoteError);
  assert.equal(parseCheckpoint('o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n').extensions, ['ext']);
  for (const bad of ['o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', 'o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', 'o\n1\nAAAA\n', 'o\n1\n', '\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n']) {
    assert.throws(() => parseCheckpoint(bad), isNoteError, JSON.stringify(bad));
  }
  assert.is(formatCheckpoint({ origin: 'o', size: 0, rootHash: new Uint8Array(32), extensions: [] }), `o\n0\n${Buffer.alloc(32).toString('base64')}\n`);
});

t.run();
