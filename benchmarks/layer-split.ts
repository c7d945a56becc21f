/**
 * How v2's energy split between its two layers trades collusion resistance and mixing against
 * short-clip detection (issue 13). PROFILE_V2 superposes the key-level layer (sync and timecode:
 * proposes where to look, names no leg, the same in every leg's copy so averaging keeps it) and
 * each leg's own layer (names the leg; an average of k legs' copies keeps 1/k of it) at amplitudes
 * whose squares sum to 1 (PROFILE_V2: 1/sqrt 2 each). Moving energy to the leg layer raises every leg's statistic and lowers the key layer's,
 * which the fast path needs to find the alignment in short or degraded clips.
 *
 * Per key-layer amplitude a (leg layer sqrt(1 - a^2); benchmarks/lib.ts v2WithKeyAmplitude) and
 * condition, N clips of the fixture meeting voices at random places and random session offsets,
 * scanned among 64 candidates (detect, PROFILE-like study profile, alpha 1e-6):
 *   collusion   3 legs' copies of 30 s, each through AAC 64k, averaged, AAC 64k: all 3 named?
 *   Opus 24k    one leg, 7.5 s (the wideband must at 1.5x its length): named?
 *   MP3 64k     one leg, 7.5 s: named?
 *   mixing      one leg, 30 s, another (unmarked) talker at 0 dB over it, AAC 64k: named?
 *   speed 1.03  one leg, 45 s replayed 3% fast (the key layer finds the speed): named?
 * Each row: named k/N, the right legs' z (median, 10th percentile, minimum), the key layer's z.
 * The splits run in parallel child processes (one per core). Writes benchmarks/results/layer-split.md.
 * Environment: SPLITS (key amplitudes, default 0.7071,0.6,0.5), N (clips per cell, default 40).
 */
import { cpus } from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyChain } from '../lib/channel/index.js';
import { DetectorCache, PROFILE_V2, detect, embedAudio, keyFromBytes } from '../lib/mark/index.js';
import { RATE, codec, loopSlice, materialVoices, registry, rng, targetVoices } from './attacks/harness.js';
import { markdownTable, provenance, rms, v2WithKeyAmplitude, writeResult } from './lib.js';

interface Cell {
  condition: string;
  named: number;
  clips: number;
  z: number[];
  key: number[];
}

const CONDITIONS = ['collusion: average of 3 legs, 30 s, AAC 64k', 'Opus 24k, 7.5 s', 'MP3 64k, 7.5 s', 'mixing: unmarked talker at 0 dB, 30 s, AAC 64k', 'speed 1.03, 45 s'];

async function runSplit(a: number, n: number): Promise<Cell[]> {
  const profile = v2WithKeyAmplitude(a);
  const key = keyFromBytes(new Uint8Array(32).fill(23));
  const cands = registry();
  const cache = new DetectorCache();
  const voices = await materialVoices();
  const others = [...(await targetVoices()).values()];
  const cells: Cell[] = CONDITIONS.map((condition) => ({ condition, named: 0, clips: 0, z: [], key: [] }));
  // The same clips for every split: the draws depend on the clip index only.
  for (let i = 0; i < n; i++) {
    const r = rng(9001 + i);
    const from = Math.floor(r() * 3000 * RATE);
    const offsetSec = 60 + r() * 7000;
    const mark = (x: Float32Array, token: string): Float32Array => embedAudio({ channels: [x], sampleRate: RATE }, { key, token, offsetSec, profile }).channels[0]!;
    const scan = (y: Float32Array, ci: number, legs: string[]): void => {
      const d = detect({ channels: [y], sampleRate: RATE }, { key, candidates: cands, profile, cache });
      const c = cells[ci]!;
      c.clips++;
      if (legs.every((t) => d.legs.some((l) => l.token === t))) c.named++;
      for (const t of legs) c.z.push(d.scores.find((s) => s.token === t)!.score);
      c.key.push(d.keyLayer?.score ?? 0);
    };
    // Collusion.
    {
      const x = loopSlice(voices, from, 30 * RATE);
      const legs = ['leg-A', 'leg-B', 'leg-C'];
      const copies = await Promise.all(legs.map((t, j) => codec(mark(x, t), 'aac:64', 100 * i + j)));
      const y = Float32Array.from(x, (_, j) => (copies[0]![j]! + copies[1]![j]! + copies[2]![j]!) / 3);
      scan(await codec(y, 'aac:64', 7000 + i), 0, legs);
    }
    // Short wideband clips.
    for (const [ci, chain] of [
      [1, 'opus:24'],
      [2, 'mp3:64'],
    ] as const) {
      const x = loopSlice(voices, from + Math.floor(r() * 60 * RATE), 7.5 * RATE);
      scan(await codec(mark(x, 'leg-A'), chain, 9000 + i), ci, ['leg-A']);
    }
    // Mixing.
    {
      const x = loopSlice(voices, from, 30 * RATE);
      const o = others[i % others.length]!;
      const s0 = Math.floor(r() * Math.max(1, o.length - 30 * RATE));
      const other = new Float32Array(30 * RATE);
      other.set(o.subarray(s0, s0 + 30 * RATE));
      const g = rms(x) / Math.max(1e-9, rms(other));
      const y = mark(x, 'leg-A');
      const mix = Float32Array.from(y, (v, j) => v + g * other[j]!);
      scan(await codec(mix, 'aac:64', 11000 + i), 3, ['leg-A']);
    }
    // Speed.
    {
      const x = loopSlice(voices, from, Math.round(45 * 1.03 * RATE));
      const sped = (await applyChain({ channels: [mark(x, 'leg-A')], sampleRate: RATE }, 'speed:1.03', { seed: i })).channels[0]!;
      scan(sped, 4, ['leg-A']);
    }
    if (process.send) process.send({ progress: `key ${a}: ${i + 1}/${n} clips, named ${cells.map((c) => c.named).join(' / ')}` });
  }
  return cells;
}

function q(xs: readonly number[], p: number): number {
  const s = [...xs].sort((u, v) => u - v);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
}

const worker = process.env['LAYER_SPLIT_WORKER'];
if (worker) {
  const { a, n } = JSON.parse(worker) as { a: number; n: number };
  process.send!({ done: await runSplit(a, n) });
  process.disconnect();
} else {
  const splits = (process.env['SPLITS'] ?? '0.7071,0.6,0.5').split(',').map(Number);
  const n = Number(process.env['N'] ?? 40);
  const t0 = performance.now();
  const results = new Map<number, Cell[]>();
  const queue = [...splits];
  const runOne = async (): Promise<void> => {
    for (let a = queue.shift(); a !== undefined; a = queue.shift()) {
      const split = a;
      results.set(
        split,
        await new Promise<Cell[]>((resolve, reject) => {
          const w = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, LAYER_SPLIT_WORKER: JSON.stringify({ a: split, n }) } });
          let done: Cell[] | undefined;
          w.on('message', (m: { progress?: string; done?: Cell[] }) => (m.done ? (done = m.done) : console.log(m.progress)));
          w.on('error', reject);
          w.on('exit', (code) => (done ? resolve(done) : reject(new Error(`worker for key amplitude ${split} exited ${code}`))));
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(splits.length, Math.max(1, cpus().length)) }, runOne));
  const rows: (string | number)[][] = [];
  for (const a of splits) {
    for (const c of results.get(a)!) {
      rows.push([
        `${a.toFixed(3)} / ${Math.sqrt(1 - a * a).toFixed(3)}`,
        c.condition,
        `${c.named}/${c.clips}`,
        `${q(c.z, 0.5).toFixed(1)} / ${q(c.z, 0.1).toFixed(1)} / ${Math.min(...c.z).toFixed(1)}`,
        `${q(c.key, 0.5).toFixed(1)} / ${q(c.key, 0.1).toFixed(1)}`,
      ]);
    }
  }
  const md = [
    '# v2 layer split: collusion and mixing against short-clip detection',
    '',
    provenance(),
    '',
    `Key-level layer amplitude / leg layer amplitude (PROFILE_V2: ${PROFILE_V2.layerAmplitudes.key.toFixed(3)} / ${PROFILE_V2.layerAmplitudes.leg.toFixed(3)}). ${n} clips per cell: fixture meeting voices at random places, random session offsets (the same clips for every split), 64 candidates, alpha 1e-6 (detect's default), no leg spans. "named": every right leg named (collusion: all three). z: the right legs' statistics, median / 10th percentile / minimum; key: the key-level layer's z, median / 10th percentile. Command: \`N=${n} SPLITS=${splits.join(',')} node --import tsx benchmarks/layer-split.ts\`, ${((performance.now() - t0) / 60000).toFixed(1)} min wall on ${cpus().length} cores.`,
    '',
    markdownTable(['key / leg amplitude', 'condition', 'named', 'right-leg z median / 10% / min', 'key z median / 10%'], rows),
    '',
  ].join('\n');
  console.log(md);
  console.log(`wrote ${writeResult('layer-split.md', md)}`);
}
