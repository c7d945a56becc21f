/**
 * An exclusive inter-process lock on a directory, in pure Node.
 *
 * The lock is a file created atomically with its full content: the holder writes
 * `{host, nonce, pid, since}` to a private temporary file and hard-links it to the lock path
 * (link(2) fails with EEXIST when the lock exists, like O_EXCL, and the lock is never seen
 * half-written). A lock whose holder is a dead process on this host is stale: it is moved
 * aside with rename(2) (atomic; only one breaker wins), and deleted only if what was moved is
 * still the stale lock that was observed; otherwise the live lock is put back. The holder
 * re-reads the lock before it writes (`assertHeld`) so a lost lock aborts the write.
 */
import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { errnoOf, InputError } from '../errors.js';

export interface LockOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
}

export interface HeldLock {
  readonly path: string;
  /** Throws when the lock is no longer ours (broken by someone else). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

interface LockContent {
  host: string;
  nonce: string;
  pid: number;
  since: string;
}

const UNREADABLE_STALE_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseContent(text: string): LockContent | null {
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string' && typeof v.since === 'string') {
      return v as LockContent;
    }
  } catch {
    // fall through
  }
  return null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Acquire the lock at `lockPath` (waiting up to the timeout). */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const nonce = randomBytes(8).toString('hex');
  const content = JSON.stringify({ host: hostname(), nonce, pid: process.pid, since: new Date().toISOString() });
  const tmp = `${lockPath}.${process.pid}.${nonce}.tmp`;
  await writeFile(tmp, content, { flag: 'wx', mode: 0o600 });
  const started = Date.now();
  let delay = 2;
  try {
    for (;;) {
      try {
        await link(tmp, lockPath);
        break;
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
      let observed: string;
      try {
        observed = await readFile(lockPath, 'utf8');
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue;
        throw err;
      }
      const holder = parseContent(observed);
      let stale = false;
      if (holder) {
        stale = holder.host === hostname() && !isAlive(holder.pid);
      } else {
        const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
        stale = age > UNREADABLE_STALE_MS;
      }
      if (stale) {
        await breakStale(lockPath, observed, nonce);
        continue;
      }
      if (Date.now() - started > timeoutMs) {
        const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown holder';
        throw new InputError(lockPath, `registry is locked by ${who} (waited ${(timeoutMs / 1000).toFixed(1)} s); if no earmark process is using it, delete the lock file`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 50);
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await cleanLeftovers(lockPath);
  let released = false;
  return {
    path: lockPath,
    async assertHeld() {
      const now = await readFile(lockPath, 'utf8').catch(() => '');
      if (released || now !== content) throw new Error(`lost the registry lock ${lockPath}`);
    },
    async release() {
      if (released) return;
      released = true;
      const now = await readFile(lockPath, 'utf8').catch(() => '');
      if (now === content) await unlink(lockPath).catch(() => undefined);
    },
  };
}

async function breakStale(lockPath: string, observed: string, nonce: string): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${nonce}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== observed) {
    // Someone else broke the stale lock and took a fresh one in between: give it back.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** Temporary and moved-aside lock files left by processes that died (kill -9) mid-way. */
async function cleanLeftovers(lockPath: string): Promise<void> {
  const dir = dirname(lockPath);
  const base = basename(lockPath);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:stale\\.)?(\\d+)\\.[0-9a-f]+(?:\\.tmp)?$`).exec(name);
    if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) await unlink(join(dir, name)).catch(() => undefined);
  }
}
