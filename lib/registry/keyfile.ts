/**
 * The registry's signing key file: one line, the signed-note signer key text
 * (`PRIVATE+KEY+<origin>+<key id>+<base64>`), mode 0600, kept apart from the log.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoOf, InputError } from '../errors.js';
import { formatSignerKey, generateSignerKey, NoteError, parseSignerKey } from './checkpoint.js';
import type { SignerKey } from './checkpoint.js';

/** A fresh origin: a schema-less URL-like name unique to this registry. */
export function newOrigin(): string {
  return `earmark.registry/${randomBytes(8).toString('hex')}`;
}

/** Read the signing key; InputError naming the file when missing or invalid. */
export async function readSigningKey(path: string): Promise<SignerKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') throw new InputError(path, 'signing key not found (it is created with the registry; pass its path as signingKeyPath)');
    throw new InputError(path, `cannot read signing key (${(err as Error).message})`);
  }
  try {
    return parseSignerKey(text);
  } catch (err) {
    throw new InputError(path, `not a signing key (${err instanceof NoteError ? err.message : String(err)})`);
  }
}

/**
 * The signing key at `path`, created (O_EXCL, mode 0600, fsynced) when the file does not exist.
 * An existing key is reused: its name becomes the registry's origin.
 */
export async function readOrCreateSigningKey(path: string, origin: string | undefined, location: string): Promise<SignerKey> {
  try {
    return await readSigningKey(path);
  } catch (err) {
    if (!(err instanceof InputError) || !/not found/.test(err.message)) throw err;
  }
  let key: SignerKey;
  try {
    key = generateSignerKey(origin ?? newOrigin());
  } catch (err) {
    throw new InputError(location, `invalid origin (${(err as Error).message})`);
  }
  await mkdir(dirname(path), { recursive: true });
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    // Another process created it first: use theirs.
    if (errnoOf(err) === 'EEXIST') return readSigningKey(path);
    throw new InputError(path, `cannot create signing key (${(err as Error).message})`);
  }
  try {
    await fh.writeFile(`${formatSignerKey(key)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return key;
}
