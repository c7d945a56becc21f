import { readFile, stat, writeFile } from 'node:fs/promises';
import { InputError } from '../lib/errors.js';
import { parseKey, serializeKey } from '../lib/mark/keys.js';
import type { MarkKey } from '../lib/mark/keys.js';

/** Read and parse a key file; every failure is an InputError naming the file. */
export async function readKeyFile(path: string): Promise<MarkKey> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'no such key file' : `cannot read key file (${code ?? 'error'})`);
  }
  if (!st.isFile()) throw new InputError(path, 'is not a key file (not a regular file)');
  if (st.size > 4096) throw new InputError(path, 'is not an earmark key file (too large)');
  return parseKey(await readFile(path), path);
}

/** Write a new key file with mode 0600; never overwrites an existing file (a lost key is lost evidence). */
export async function writeNewKeyFile(path: string, key: MarkKey): Promise<void> {
  try {
    await writeFile(path, serializeKey(key), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError(path, 'already exists; refusing to overwrite a key (delete it yourself if you mean it)');
    throw new InputError(path, `cannot write key file (${code ?? 'error'})`);
  }
}
