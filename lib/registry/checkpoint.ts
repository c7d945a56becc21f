/**
 * Signed checkpoints: the C2SP tlog-checkpoint body (origin, tree size, base64 root hash) in a
 * C2SP signed note with an Ed25519 signature (node:crypto).
 *
 *   <origin>\n<size>\n<base64 root>\n      note text (c2sp.org/tlog-checkpoint)
 *   \n
 *   — <key name> base64(key ID || signature)\n   (c2sp.org/signed-note)
 *
 * key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4] (signed-note, Ed25519).
 *
 * Keys travel in the note verifier / signer key text formats of golang.org/x/mod/sumdb/note,
 * which transparency-log tools already read:
 *   verifier  <name>+<key ID hex>+base64(0x01 || public key)
 *   signer    PRIVATE+KEY+<name>+<key ID hex>+base64(0x01 || 32-byte seed)
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HASH_BYTES } from './merkle.js';

const ED25519_TYPE = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
// DER wrappers of a raw Ed25519 key (RFC 8410): PKCS#8 private key and SPKI public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Thrown for malformed notes, checkpoints and key texts. */
export class NoteError extends Error {
  override readonly name = 'NoteError';
}

export interface VerifierKey {
  /** Key name; for a log, its origin. */
  name: string;
  /** The signed-note key ID (uint32). */
  keyId: number;
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface SignerKey extends VerifierKey {
  /** 32-byte Ed25519 private seed (RFC 8032). */
  seed: Uint8Array;
}

/** A checkpoint's note text (c2sp.org/tlog-checkpoint). */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Extension lines (opaque; earmark writes none). */
  extensions: string[];
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Key names (and our origins) must be non-empty, without spaces or '+' (signed-note). */
export function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new NoteError(`key name ${JSON.stringify(name)} must be non-empty without spaces, '+' or control characters`);
  }
}

/** The signed-note key ID of an Ed25519 key. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  const digest = createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519_TYPE])).update(publicKey).digest();
  return digest.readUInt32BE(0);
}

/** A fresh Ed25519 signing key named `name`. */
export function generateSignerKey(name: string): SignerKey {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return signerFromSeed(name, new Uint8Array(seed));
}

/** The signing key for a 32-byte seed. */
export function signerFromSeed(name: string, seed: Uint8Array): SignerKey {
  checkKeyName(name);
  if (seed.length !== 32) throw new NoteError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const publicKey = publicKeyOf(privateKeyObject(seed));
  return { name, keyId: ed25519KeyId(name, publicKey), publicKey, seed: new Uint8Array(seed) };
}

export function verifierOf(key: SignerKey): VerifierKey {
  return { name: key.name, keyId: key.keyId, publicKey: key.publicKey };
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

function publicKeyOf(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** `<name>+<id>+base64(0x01 || public key)`. */
export function formatVerifierKey(key: VerifierKey): string {
  return `${key.name}+${hex8(key.keyId)}+${Buffer.concat([Buffer.from([ED25519_TYPE]), key.publicKey]).toString('base64')}`;
}

/** `PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)`. */
export function formatSignerKey(key: SignerKey): string {
  return `PRIVATE+KEY+${key.name}+${hex8(key.keyId)}+${Buffer.concat([Buffer.from([ED25519_TYPE]), key.seed]).toString('base64')}`;
}

function parseKeyParts(text: string, what: string): { name: string; keyId: number; material: Uint8Array } {
  // The name has no '+'; the base64 key material may.
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new NoteError(`${what} must look like name+keyid+base64key`);
  const name = text.slice(0, first);
  const id = text.slice(first + 1, second);
  const b64 = text.slice(second + 1);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError(`${what} key ID must be 8 lowercase hex digits`);
  const material = decodeBase64Strict(b64, `${what} key`);
  if (material.length !== 33 || material[0] !== ED25519_TYPE) throw new NoteError(`${what} is not an Ed25519 key (type 0x01, 32 bytes)`);
  return { name, keyId: parseInt(id, 16), material: material.subarray(1) };
}

export function parseVerifierKey(text: string): VerifierKey {
  const { name, keyId, material } = parseKeyParts(text.trim(), 'verifier key');
  if (ed25519KeyId(name, material) !== keyId) throw new NoteError('verifier key ID does not match its name and public key');
  try {
    publicKeyObject(material);
  } catch {
    throw new NoteError('verifier key is not a valid Ed25519 public key');
  }
  return { name, keyId, publicKey: new Uint8Array(material) };
}

export function parseSignerKey(text: string): SignerKey {
  const trimmed = text.trim();
  if (!trimmed.startsWith('PRIVATE+KEY+')) throw new NoteError('signer key must start with PRIVATE+KEY+');
  const { name, keyId, material } = parseKeyParts(trimmed.slice('PRIVATE+KEY+'.length), 'signer key');
  const key = signerFromSeed(name, material);
  if (key.keyId !== keyId) throw new NoteError('signer key ID does not match its name and key');
  return key;
}

/** Standard base64 (RFC 4648 §4) with padding; rejects anything that does not round-trip. */
export function decodeBase64Strict(text: string, what: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new NoteError(`${what} is not canonical base64`);
  return new Uint8Array(bytes);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Sign `text` (which must end in a newline) and return the signed note. */
export function signNote(text: string, key: SignerKey): string {
  checkNoteText(text);
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKeyObject(key.seed));
  const id = Buffer.alloc(4);
  id.writeUInt32BE(key.keyId);
  return `${text}\n${SIGNATURE_PREFIX}${key.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteError('note text must end with a newline');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new NoteError('note text must not contain control characters other than newline');
}

/** Split a signed note into its text and signature lines (no signature checks). */
export function parseSignedNote(note: string): SignedNote {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteError('note contains control characters');
  if (!note.endsWith('\n')) throw new NoteError('note must end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > 100) throw new NoteError('note has too many signatures');
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError('signature line must start with an em dash and a space');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space <= 0 || rest.indexOf(' ', space + 1) >= 0) throw new NoteError('signature line must be "— <name> <base64>"');
    const name = rest.slice(0, space);
    checkKeyName(name);
    const blob = decodeBase64Strict(rest.slice(space + 1), 'signature');
    if (blob.length < 5) throw new NoteError('signature is too short');
    return { name, keyId: Buffer.from(blob).readUInt32BE(0), signature: blob.subarray(4) };
  });
  return { text, signatures };
}

/**
 * Verify `note` with `key`: returns the note text when a signature by that key (same name and
 * key ID) is present and valid. Throws `NoteError` otherwise. Signatures by other keys are
 * ignored, as signed-note requires.
 */
export function openNote(note: string, key: VerifierKey): string {
  const parsed = parseSignedNote(note);
  const mine = parsed.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (mine.length === 0) throw new NoteError(`note is not signed by ${key.name}+${hex8(key.keyId)}`);
  const pub = publicKeyObject(key.publicKey);
  for (const s of mine) {
    if (s.signature.length !== 64 || !verify(null, Buffer.from(parsed.text, 'utf8'), pub, s.signature)) {
      throw new NoteError(`signature by ${key.name}+${hex8(key.keyId)} does not verify`);
    }
  }
  return parsed.text;
}

/** The checkpoint note text for a tree head. */
export function formatCheckpoint(cp: Checkpoint): string {
  checkKeyName(cp.origin);
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new NoteError(`checkpoint size ${cp.size} is not a count`);
  if (cp.rootHash.length !== HASH_BYTES) throw new NoteError('checkpoint root hash must be 32 bytes');
  const ext = cp.extensions.map((line) => {
    if (line.length === 0 || line.includes('\n')) throw new NoteError('checkpoint extension lines must be non-empty single lines');
    return `${line}\n`;
  });
  return `${cp.origin}\n${cp.size}\n${encodeBase64(cp.rootHash)}\n${ext.join('')}`;
}

/** Parse a checkpoint note text (not a whole signed note). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new NoteError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('checkpoint needs origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new NoteError('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new NoteError(`checkpoint size ${JSON.stringify(sizeLine)} is not a decimal count`);
  }
  const rootHash = decodeBase64Strict(rootLine, 'checkpoint root hash');
  if (rootHash.length !== HASH_BYTES) throw new NoteError('checkpoint root hash is not 32 bytes');
  if (extensions.some((l) => l.length === 0)) throw new NoteError('checkpoint has an empty extension line');
  return { origin, size: Number(sizeLine), rootHash, extensions };
}

/** Sign a checkpoint; the key's name must be the origin (tlog-checkpoint recommends it). */
export function signCheckpoint(cp: Omit<Checkpoint, 'extensions'> & { extensions?: string[] }, key: SignerKey): string {
  return signNote(formatCheckpoint({ ...cp, extensions: cp.extensions ?? [] }), key);
}

/** Verify a signed checkpoint note with `key` and parse it. Throws `NoteError`. */
export function openCheckpoint(note: string, key: VerifierKey): Checkpoint {
  return parseCheckpoint(openNote(note, key));
}
