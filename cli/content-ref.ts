/** Content reference files for the CLI: read (files or directories of *.ecr), write (never over an existing file). */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../lib/errors.js';
import { ContentRefError, parseContentReference, serializeContentReference } from '../lib/mark/content-ref.js';
import type { ContentReference } from '../lib/mark/content-ref.js';

/** The file extension earmark writes content references with. */
export const CONTENT_REF_EXT = '.ecr';
/** Largest reference file read: 24 h of session (2 x 2.7 M frames) and the header. */
const MAX_BYTES = 8 * 1024 * 1024;

async function readOne(path: string): Promise<ContentReference> {
  const st = await stat(path);
  if (st.size > MAX_BYTES) throw new InputError(path, `is not a content reference (${st.size} bytes; a day of session is under ${MAX_BYTES})`);
  try {
    return parseContentReference(await readFile(path));
  } catch (err) {
    if (err instanceof ContentRefError) throw new InputError(path, err.message);
    throw err;
  }
}

/** Every reference the paths name: a file, or a directory's *.ecr files (sorted by name). */
export async function readContentReferences(paths: readonly string[]): Promise<ContentReference[]> {
  const out: ContentReference[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(p, code === 'ENOENT' ? 'no such content reference file or directory' : `cannot read (${code ?? 'error'})`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith(CONTENT_REF_EXT)).sort();
      if (names.length === 0) throw new InputError(p, `holds no content reference (*${CONTENT_REF_EXT}) files`);
      for (const n of names) out.push(await readOne(join(p, n)));
    } else out.push(await readOne(p));
  }
  return out;
}

/** Write a reference; refuses to overwrite (a reference is evidence once committed). */
export async function writeContentReference(path: string, ref: ContentReference): Promise<void> {
  try {
    await writeFile(path, serializeContentReference(ref), { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError(path, 'already exists; refusing to overwrite a content reference');
    throw new InputError(path, `cannot write content reference (${code ?? 'error'})`);
  }
}
