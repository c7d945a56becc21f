/** Shared helpers for benchmarks: work dir, result tables, process measurement. */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILE_V2 } from '../lib/mark/profile.js';
import type { MarkProfile } from '../lib/mark/profile.js';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const workDir = join(root, 'benchmarks', 'work');
export const resultsDir = join(root, 'benchmarks', 'results');
mkdirSync(workDir, { recursive: true });
mkdirSync(resultsDir, { recursive: true });

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function readHead(gitDir: string): string {
  const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
  return head.startsWith('ref: ') ? readFileSync(join(gitDir, head.slice(5)), 'utf8').trim() : head;
}

/** Machine and revision facts printed above every results table. */
export function provenance(): string {
  let commit = 'unknown';
  try {
    // A worktree's .git is a file naming its git directory; refs may be packed.
    let gitDir = join(root, '.git');
    const dotGit = readFileSync(gitDir, 'utf8');
    if (dotGit.startsWith('gitdir: ')) gitDir = dotGit.slice(8).trim();
    commit = readHead(gitDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') {
      try {
        commit = readHead(join(root, '.git'));
      } catch {
        /* unreadable */
      }
    }
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpu}, Node ${process.version}, commit ${commit.slice(0, 12)}.`;
}

export function writeResult(name: string, markdown: string): string {
  const path = join(resultsDir, name);
  writeFileSync(path, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return path;
}

export interface ProcessMeasurement {
  wallSec: number;
  peakRssMB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a command and measure its wall time and peak RSS (VmHWM from /proc, polled until exit;
 * the kernel keeps the high-water mark so polling only needs to catch the process alive).
 */
export function measureProcess(cmd: string, args: string[]): Promise<ProcessMeasurement> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKB = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) peakKB = Math.max(peakKB, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const wallSec = Number(process.hrtime.bigint() - start) / 1e9;
      resolve({ wallSec, peakRssMB: peakKB / 1024, code, stdout, stderr });
    });
  });
}

/** Root-mean-square of samples (0 for none). */
export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length));
}

/**
 * A study variant of PROFILE_V2 with the key-level layer at amplitude `key` and the leg layer at
 * sqrt(1 - key^2) (PROFILE_V2: 1/sqrt 2 each). Only for benchmarks weighing the split
 * (layer-split.ts, robustness.ts KEY_AMP): marks made with it are not PROFILE_V2 marks.
 */
export function v2WithKeyAmplitude(key: number): MarkProfile {
  if (!(key > 0 && key < 1)) throw new RangeError(`key amplitude must be in (0, 1), got ${key}`);
  return Object.freeze({ ...PROFILE_V2, layerAmplitudes: Object.freeze({ key, leg: Math.sqrt(1 - key * key) }) });
}
