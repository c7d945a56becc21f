/**
 * The embedded registry store: a directory.
 *
 *   <dir>/registry.json       {"format":"earmark.registry/1","origin":…,"verifierKey":…} (RFC 8785)
 *   <dir>/log.jsonl           one canonical event per line: the Merkle leaves, in order
 *   <dir>/checkpoints.jsonl   every signed checkpoint issued, one {"note":…} per line
 *   <dir>/lock                the writers' lock (see lock.ts), present only while held
 *   <dir>.signing-key         the Ed25519 signing key (mode 0600), a sibling kept apart from
 *                             the log so the log can be copied or published without it;
 *                             override with `signingKeyPath`
 *
 * Appends are serialized by the lock, written with one write(2) per file and fsynced before
 * the promise resolves. A crash (kill -9) can leave an incomplete last line in either file:
 * the next writer truncates it (it was never acknowledged) and seals complete entries that
 * were written but not yet checkpointed. Readers ignore an incomplete last line.
 */
import { mkdir, open, readdir, readFile, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errnoOf, InputError } from '../errors.js';
import { formatVerifierKey, parseVerifierKey, verifierOf } from './checkpoint.js';
import { canonicalize, parseCanonical } from './jcs.js';
import { readOrCreateSigningKey, readSigningKey } from './keyfile.js';
import { acquireLock } from './lock.js';
import type { HeldLock } from './lock.js';
import { sealNotes } from './store.js';
import type { AppendPlanner, AppendResult, LogSnapshot, RegistryDescription, RegistryStore, StoredCheckpoint } from './store.js';

export const FILE_FORMAT = 'earmark.registry/1';
const META = 'registry.json';
const LOG = 'log.jsonl';
const CHECKPOINTS = 'checkpoints.jsonl';
const LOCK = 'lock';
const NEWLINE = 0x0a;

export interface FileStoreOptions {
  /** Where the signing key lives (default: `<dir>.signing-key`, next to the directory). */
  signingKeyPath?: string;
  /** How long a writer waits for the lock (default 30 s). */
  lockTimeoutMs?: number;
}

interface SplitFile {
  lines: Uint8Array[];
  tornTailBytes: number;
  byteLength: number;
}

function splitLines(bytes: Uint8Array): SplitFile {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === NEWLINE) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return { lines, tornTailBytes: bytes.length - start, byteLength: bytes.length };
}

export class FileStore implements RegistryStore {
  readonly location: string;
  readonly dir: string;
  readonly signingKeyPath: string;
  readonly #lockTimeoutMs: number;

  constructor(dir: string, options: FileStoreOptions = {}) {
    this.location = dir;
    this.dir = resolve(dir);
    this.signingKeyPath = options.signingKeyPath ?? `${this.dir}.signing-key`;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  }

  #path(name: string): string {
    return join(this.dir, name);
  }

  async #checkDirectory(): Promise<void> {
    let info;
    try {
      info = await stat(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw new InputError(this.location, 'no registry here (create one with earmark registry init or registry add)');
      throw new InputError(this.location, `cannot read registry (${(err as Error).message})`);
    }
    if (!info.isDirectory()) throw new InputError(this.location, 'not a registry directory (expected a directory holding registry.json and log.jsonl)');
  }

  async describe(): Promise<RegistryDescription> {
    await this.#checkDirectory();
    let text: string;
    try {
      text = await readFile(this.#path(META), 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw new InputError(this.location, 'not a registry (no registry.json in the directory)');
      throw new InputError(this.location, `cannot read registry.json (${(err as Error).message})`);
    }
    try {
      const meta = parseCanonical(text.endsWith('\n') ? text.slice(0, -1) : text) as Record<string, unknown>;
      if (typeof meta !== 'object' || meta === null || meta['format'] !== FILE_FORMAT) throw new Error(`format is not ${FILE_FORMAT}`);
      const origin = meta['origin'];
      const verifierKey = meta['verifierKey'];
      if (typeof origin !== 'string' || typeof verifierKey !== 'string') throw new Error('origin and verifierKey must be strings');
      if (parseVerifierKey(verifierKey).name !== origin) throw new Error('verifier key name is not the origin');
      return { origin, verifierKey };
    } catch (err) {
      throw new InputError(this.location, `registry.json is corrupt (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  async init(options: { origin?: string } = {}): Promise<RegistryDescription> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      if (errnoOf(err) === 'EEXIST' || errnoOf(err) === 'ENOTDIR') throw new InputError(this.location, 'not a registry directory (a file is in the way)');
      throw new InputError(this.location, `cannot create registry directory (${(err as Error).message})`);
    }
    await this.#checkDirectory();
    const lock = await this.#lock();
    try {
      try {
        return await this.describe();
      } catch (err) {
        if (!(err instanceof InputError) || !/no registry\.json/.test(err.message)) throw err;
      }
      for (const name of await readdir(this.dir)) {
        if (name === LOCK || name.startsWith(`${LOCK}.`)) continue;
        // An init interrupted before registry.json was written leaves these empty.
        if ((name === LOG || name === CHECKPOINTS) && (await stat(this.#path(name))).size === 0) continue;
        throw new InputError(this.location, `directory is not empty and holds no registry.json (found ${name}); not creating a registry here`);
      }
      const key = await readOrCreateSigningKey(this.signingKeyPath, options.origin, this.location);
      await syncDirectory(dirname(this.signingKeyPath));
      const description: RegistryDescription = { origin: key.name, verifierKey: formatVerifierKey(verifierOf(key)) };
      for (const name of [LOG, CHECKPOINTS]) await writeFile(this.#path(name), '', { flag: 'a' });
      const tmp = this.#path(`${META}.tmp`);
      await writeDurably(tmp, `${canonicalize({ format: FILE_FORMAT, ...description })}\n`, 'w');
      await rename(tmp, this.#path(META));
      await syncDirectory(this.dir);
      return description;
    } finally {
      await lock.release();
    }
  }

  #lock(): Promise<HeldLock> {
    return acquireLock(this.#path(LOCK), { timeoutMs: this.#lockTimeoutMs });
  }

  /** Read under the lock when we may create it; read-only media are read without it. */
  async #withReadLock<T>(fn: () => Promise<T>): Promise<T> {
    let lock: HeldLock | null = null;
    try {
      lock = await this.#lock();
    } catch (err) {
      if (!['EACCES', 'EPERM', 'EROFS'].includes(errnoOf(err) ?? '')) throw err;
    }
    try {
      return await fn();
    } finally {
      await lock?.release();
    }
  }

  async #readLines(name: string): Promise<SplitFile> {
    try {
      return splitLines(await readFile(this.#path(name)));
    } catch (err) {
      // A missing log or checkpoint file reads as empty: verification then reports what the
      // checkpoints (or their absence) say about it.
      if (errnoOf(err) === 'ENOENT') return { lines: [], tornTailBytes: 0, byteLength: 0 };
      if (errnoOf(err) === 'EISDIR') throw new InputError(this.location, `${name} is a directory, not a file`);
      throw new InputError(this.location, `cannot read ${name} (${(err as Error).message})`);
    }
  }

  async #readCheckpoints(): Promise<{ history: StoredCheckpoint[]; file: SplitFile }> {
    const file = await this.#readLines(CHECKPOINTS);
    const history = file.lines.map((line, position): StoredCheckpoint => {
      try {
        const record = JSON.parse(Buffer.from(line).toString('utf8')) as unknown;
        const note = (record as { note?: unknown } | null)?.note;
        if (typeof note !== 'string') throw new Error('no "note" string');
        return { position, note };
      } catch (err) {
        return { position, note: null, problem: `unreadable checkpoint record (${(err as Error).message})` };
      }
    });
    return { history, file };
  }

  async size(): Promise<number> {
    return (await this.read()).length;
  }

  async read(start = 0, end?: number): Promise<Uint8Array[]> {
    await this.describe();
    const { lines } = await this.#withReadLock(() => this.#readLines(LOG));
    return lines.slice(start, end);
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    await this.describe();
    return (await this.#withReadLock(() => this.#readCheckpoints())).history;
  }

  async snapshot(): Promise<LogSnapshot> {
    const description = await this.describe();
    return this.#withReadLock(async () => {
      const log = await this.#readLines(LOG);
      const { history } = await this.#readCheckpoints();
      return { location: this.location, description, entries: log.lines, tornTailBytes: log.tornTailBytes, checkpoints: history };
    });
  }

  async append<T>(planner: AppendPlanner<T>): Promise<AppendResult<T>> {
    const description = await this.init();
    const signer = await readSigningKey(this.signingKeyPath);
    const lock = await this.#lock();
    try {
      const log = await this.#readLines(LOG);
      const cps = await this.#readCheckpoints();
      // Repair torn tails: an incomplete last line was never acknowledged.
      if (log.tornTailBytes > 0) await truncateDurably(this.#path(LOG), log.byteLength - log.tornTailBytes);
      if (cps.file.tornTailBytes > 0) await truncateDurably(this.#path(CHECKPOINTS), cps.file.byteLength - cps.file.tornTailBytes);
      const { leaves, result } = planner(log.lines);
      const notes = sealNotes({
        location: this.location,
        description,
        signer,
        entries: log.lines,
        lastCheckpoint: cps.history[cps.history.length - 1] ?? null,
        newLeaves: leaves,
      });
      await lock.assertHeld();
      if (leaves.length > 0) {
        const lines: Uint8Array[] = [];
        for (const leaf of leaves) {
          if (leaf.includes(NEWLINE)) throw new Error('a leaf must not contain a newline');
          lines.push(leaf, new Uint8Array([NEWLINE]));
        }
        await writeDurably(this.#path(LOG), Buffer.concat(lines), 'a');
      }
      if (notes.length > 0) {
        await writeDurably(this.#path(CHECKPOINTS), notes.map((note) => `${canonicalize({ note })}\n`).join(''), 'a');
      }
      const latest = notes[notes.length - 1] ?? cps.history[cps.history.length - 1]?.note;
      if (latest === undefined || latest === null) throw new InputError(this.location, 'the registry is empty: nothing to checkpoint yet');
      return { firstIndex: log.lines.length, size: log.lines.length + leaves.length, checkpoint: latest, result };
    } finally {
      await lock.release();
    }
  }

  async close(): Promise<void> {
    // Nothing held between calls.
  }
}

async function writeDurably(path: string, data: string | Uint8Array, flag: 'a' | 'w' | 'wx', mode = 0o644): Promise<void> {
  const fh = await open(path, flag, mode);
  try {
    await fh.writeFile(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function truncateDurably(path: string, length: number): Promise<void> {
  await truncate(path, length);
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the data files themselves are synced.
  } finally {
    await fh.close();
  }
}
