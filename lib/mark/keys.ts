/**
 * Watermark keys and keyed pseudo-random streams.
 *
 * Key file (UTF-8 JSON, one line): {"format":"earmark.key","version":1,"key":"<base64 of 32 bytes>"}.
 * The key id (16 hex digits of SHA-256 over a domain tag and the key) may be shown in reports;
 * the key itself never is.
 *
 * Every pseudo-random choice of a leg's mark comes from a named stream:
 *   legKey    = HMAC-SHA256(key, "earmark/leg/v1" || 0x00 || token)
 *   streamKey = HMAC-SHA256(legKey, "earmark/stream/v1" || 0x00 || name)
 *   stream    = AES-256-CTR keystream under streamKey (a counter-mode PRF, random access by offset)
 * so each stage ("sync", "timecode", "decoy", ...) has its own stream and changing one never
 * shifts another. Without the key the streams are indistinguishable from random, so a mark can
 * be neither read, removed on purpose nor forged for another token.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Cipher } from 'node:crypto';
import { InputError } from '../errors.js';

export const KEY_BYTES = 32;
const KEY_FORMAT = 'earmark.key';
const KEY_VERSION = 1;

export interface MarkKey {
  /** The 256-bit secret. */
  readonly bytes: Uint8Array;
  /** Short public identifier (16 hex digits); safe to print. */
  readonly id: string;
}

export function keyId(bytes: Uint8Array): string {
  return createHash('sha256').update('earmark/key-id/v1\0').update(bytes).digest('hex').slice(0, 16);
}

export function keyFromBytes(bytes: Uint8Array): MarkKey {
  if (bytes.length !== KEY_BYTES) throw new RangeError(`a mark key is ${KEY_BYTES} bytes, got ${bytes.length}`);
  const copy = Uint8Array.from(bytes);
  return { bytes: copy, id: keyId(copy) };
}

/** A fresh random 256-bit key. */
export function generateKey(): MarkKey {
  return keyFromBytes(randomBytes(KEY_BYTES));
}

/** The key file's bytes (write with mode 0600). */
export function serializeKey(key: MarkKey): Uint8Array {
  const text = JSON.stringify({ format: KEY_FORMAT, version: KEY_VERSION, id: key.id, key: Buffer.from(key.bytes).toString('base64') });
  return new TextEncoder().encode(`${text}\n`);
}

/** Parse a key file; anything else (wrong format, corrupt, wrong length, bad id) → InputError. */
export function parseKey(bytes: Uint8Array, name = 'key'): MarkKey {
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new InputError(name, `not an earmark key file (expected JSON with "format": "${KEY_FORMAT}")`);
  }
  if (typeof obj !== 'object' || obj === null || (obj as Record<string, unknown>)['format'] !== KEY_FORMAT) {
    throw new InputError(name, `not an earmark key file (expected "format": "${KEY_FORMAT}")`);
  }
  const rec = obj as Record<string, unknown>;
  if (rec['version'] !== KEY_VERSION) throw new InputError(name, `unsupported key version ${String(rec['version'])} (expected ${KEY_VERSION})`);
  const b64 = rec['key'];
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new InputError(name, 'key field is not base64');
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== KEY_BYTES) throw new InputError(name, `key is ${raw.length} bytes, expected ${KEY_BYTES}`);
  const key = keyFromBytes(raw);
  if (rec['id'] !== undefined && rec['id'] !== key.id) throw new InputError(name, 'key id does not match the key (file corrupted?)');
  return key;
}

/** Longest token (characters). */
export const MAX_TOKEN_LENGTH = 128;

/**
 * A token names one leg: 1 to 128 characters, no control characters. Control characters are
 * reserved for the detector's decoy tokens (detect/tables.ts), so no real leg can ever carry a
 * decoy's pattern; the embedder and LegPattern enforce this for every caller. `option` names the
 * input in the error (an option of the caller's).
 */
export function checkToken(token: unknown, option = 'token'): string {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new InputError(option, `must be 1 to ${MAX_TOKEN_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(token)) throw new InputError(option, 'must not contain control characters');
  return token;
}

/** Per-leg secret: HMAC-SHA256(key, domain || token). */
export function legKey(key: MarkKey, token: string): Uint8Array {
  return createHmac('sha256', key.bytes).update('earmark/leg/v1\0').update(token, 'utf8').digest();
}

/** A named counter-mode stream under a leg key (random access by byte offset). */
export class KeyStream {
  readonly #streamKey: Buffer;
  /** AES-256 on single blocks (ECB, no padding), made on first use and kept: counter mode by hand. */
  #block: Cipher | undefined;

  constructor(legSecret: Uint8Array, name: string) {
    this.#streamKey = createHmac('sha256', legSecret).update('earmark/stream/v1\0').update(name, 'utf8').digest();
  }

  /**
   * `count` keystream bytes starting at byte `offset`: AES-256-CTR with a 128-bit big-endian
   * counter from 0, computed as AES on the counter blocks (the same bytes as 'aes-256-ctr'; one
   * cipher object per stream instead of one per request, which the detector makes thousands of).
   */
  bytes(offset: number, count: number): Uint8Array {
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`stream offset must be a non-negative integer, got ${offset}`);
    const block = Math.floor(offset / 16);
    const skip = offset - block * 16;
    const blocks = Math.ceil((skip + count) / 16);
    const counters = Buffer.alloc(blocks * 16);
    // 128-bit big-endian counter; offsets stay far below 2^53.
    for (let i = 0; i < blocks; i++) {
      const b = block + i;
      counters.writeUInt32BE(Math.floor(b / 2 ** 32), i * 16 + 8);
      counters.writeUInt32BE(b % 2 ** 32, i * 16 + 12);
    }
    if (!this.#block) {
      this.#block = createCipheriv('aes-256-ecb', this.#streamKey, null);
      this.#block.setAutoPadding(false);
    }
    const out = this.#block.update(counters);
    return new Uint8Array(out.buffer, out.byteOffset + skip, count);
  }

  /** `count` signs (+1 / -1) from bit `startBit` on. */
  signs(startBit: number, count: number): Int8Array {
    const firstByte = Math.floor(startBit / 8);
    const lastByte = Math.floor((startBit + count - 1) / 8);
    const b = this.bytes(firstByte, Math.max(0, lastByte - firstByte + 1));
    const out = new Int8Array(count);
    const base = firstByte * 8;
    for (let i = 0; i < count; i++) {
      const bit = startBit + i - base;
      out[i] = ((b[bit >> 3]! >> (bit & 7)) & 1) * 2 - 1;
    }
    return out;
  }

  /** `count` uniform 32-bit unsigned integers from word `startWord` on. */
  uint32(startWord: number, count: number): Uint32Array {
    const b = this.bytes(startWord * 4, count * 4);
    const out = new Uint32Array(count);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < count; i++) out[i] = dv.getUint32(4 * i, true);
    return out;
  }
}
