/**
 * Embed and scan speed on one core (issue 3's speed musts), each timed several times after a
 * warm-up and reported as the best run (least disturbed by other load); and a long recording
 * (LONG_MIN minutes, default 38, with 60 s cut out of the middle) scanned and read blindly in a
 * child process each, with wall time and peak RSS. Writes benchmarks/results/speed.md.
 * Environment: REPS (default 5), WARMUP (scans before timing, default 6), LONG_MIN (0: skip), OUT (results file, default speed.md).
 * The scans share one DetectorCache, as a service scanning many clips with one key does.
 */
import { fileURLToPath } from 'node:url';
import { DetectorCache, PROFILE_V2, contentReference, decodePayload, detect, embedAudio, keyFromBytes } from '../lib/mark/index.js';
import { markdownTable, measureProcess, provenance, writeResult } from './lib.js';
import { RATE, loadVoices, voiceLoop } from './meeting.js';

const REPS = Number(process.env['REPS'] ?? 5);
const WARMUP = Number(process.env['WARMUP'] ?? 6);
const LONG_MIN = Number(process.env['LONG_MIN'] ?? 38);
const key = keyFromBytes(new Uint8Array(32).fill(7));
const cache = new DetectorCache();
const cands = Array.from({ length: 63 }, (_, i) => `speed-other-${i}`).concat(['speed']);

function best(fn: () => void): number {
  let t = Infinity;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

async function main(): Promise<void> {
  const voices = await loadVoices();
  const long = voiceLoop(voices, 120);
  embedAudio({ channels: [long.subarray(0, RATE * 20)], sampleRate: RATE }, { key, token: 'warm' });
  let marked: Float32Array = long;
  const embedSec = best(() => {
    marked = embedAudio({ channels: [long], sampleRate: RATE }, { key, token: 'speed' }).channels[0]!;
  });
  // Warm-up: the first scans of a process run while V8 is still compiling the detector (measured
  // ~2x slower); the first one is reported on its own row, then WARMUP more run before timing.
  const cold = performance.now();
  detect({ channels: [marked.subarray(0, RATE * 10)], sampleRate: RATE }, { key, candidates: cands, cache });
  const coldSec = (performance.now() - cold) / 1000;
  for (let i = 1; i < WARMUP; i++) detect({ channels: [marked.subarray(RATE * 10 * i, RATE * 10 * (i + 1))], sampleRate: RATE }, { key, candidates: cands, cache });
  const rows: (string | number)[][] = [['embed, 16 kHz mono, 120 s', (120 / embedSec).toFixed(0), '300 (must)']];
  rows.push(['scan, 10 s clip, first in the process (cold)', (10 / coldSec).toFixed(0), '-']);
  for (const L of [10, 30, 60]) {
    const clip = marked.subarray(RATE * 30, RATE * (30 + L));
    rows.push([`scan (detect), ${L} s clip, 64 candidates + 128 decoys`, (L / best(() => detect({ channels: [clip], sampleRate: RATE }, { key, candidates: cands, cache }))).toFixed(0), '100 (must)']);
  }
  const clip30 = marked.subarray(RATE * 30, RATE * 60);
  rows.push(['blind payload decode, 30 s clip', (30 / best(() => decodePayload({ channels: [clip30], sampleRate: RATE }, { key, cache }))).toFixed(0), '-']);
  rows.push(...v2Rows(long));
  const md = [
    '# Speed, one core (issue 3)',
    '',
    provenance(),
    '',
    `Best of ${REPS} runs after ${WARMUP} warm-up scans; the clip is real speech marked for the right leg (so the detector's`,
    'refinement and segment stages run too). The "cold" row is the first scan of the process (V8 still compiling the',
    'detector): a one-off cost per process, not per clip. 10 s scans vary by up to ~2x between runs on this VM.',
    '',
    markdownTable(['operation', 'x realtime', 'target'], rows),
    ...(LONG_MIN > 0 ? await longRecording() : []),
  ].join('\n');
  console.log(md);
  console.log(`wrote ${writeResult(process.env['OUT'] ?? 'speed.md', md)}`);
}

/**
 * Mark v2 (issue 13): embedding, the fast path (key-layer proposals, 64 legs' own layers tested
 * there) and the exhaustive search over the legs' spans (a clip whose key layer is absent: the
 * profile with key amplitude 0, so the fast path proposes nothing and the search runs).
 */
function v2Rows(long: Float32Array): (string | number)[][] {
  const rows: (string | number)[][] = [];
  let marked: Float32Array = long;
  const embedSec = best(() => {
    marked = embedAudio({ channels: [long], sampleRate: RATE }, { key, token: 'speed', offsetSec: 100, profile: PROFILE_V2 }).channels[0]!;
  });
  rows.push(['v2: embed, 16 kHz mono, 120 s', (120 / embedSec).toFixed(0), '300 (must)']);
  for (let i = 0; i < WARMUP; i++) detect({ channels: [marked.subarray(RATE * 10 * i, RATE * 10 * (i + 1))], sampleRate: RATE }, { key, candidates: cands, cache, profile: PROFILE_V2 });
  for (const L of [10, 30, 60]) {
    const clip = marked.subarray(RATE * 30, RATE * (30 + L));
    rows.push([`v2: scan (detect), ${L} s clip, 64 candidates`, (L / best(() => detect({ channels: [clip], sampleRate: RATE }, { key, candidates: cands, cache, profile: PROFILE_V2 }))).toFixed(0), '20 (must)']);
  }
  // The same scans with the named leg's content reference (lib/mark/content-ref.ts): the check runs on every named leg.
  const reference = contentReference(marked, RATE, { key, token: 'speed', offsetSec: 100 });
  const contentReferences = new Map([['speed', reference]]);
  for (const L of [10, 30, 60]) {
    const clip = marked.subarray(RATE * 30, RATE * (30 + L));
    rows.push([`v2: scan (detect) with the legs' content references, ${L} s clip, 64 candidates`, (L / best(() => detect({ channels: [clip], sampleRate: RATE }, { key, candidates: cands, cache, profile: PROFILE_V2, contentReferences }))).toFixed(0), '20 (must)']);
  }
  const legOnly = { ...PROFILE_V2, layerAmplitudes: { key: 0, leg: PROFILE_V2.layerAmplitudes.leg } };
  const stripped = embedAudio({ channels: [long.subarray(0, RATE * 40)], sampleRate: RATE }, { key, token: 'speed', offsetSec: 1000, profile: legOnly }).channels[0]!;
  const clip = { channels: [stripped.subarray(RATE * 5, RATE * 35)], sampleRate: RATE };
  const legs = cands.slice(-8);
  const legSpans = Object.fromEntries(legs.map((t) => [t, { fromSec: 0, toSec: 3600 }]));
  let found = '';
  const sec = best(() => {
    const r = detect(clip, { key, candidates: legs, cache, profile: PROFILE_V2, legSpans });
    found = r.legs.map((l) => `${l.token} z ${l.score.toFixed(1)}`).join(', ') || 'none';
  });
  rows.push([`v2: exhaustive search, 30 s clip without key layer, 8 legs x 1 h spans (found: ${found}); seconds per leg-hour: ${(sec / 8).toFixed(2)}`, (30 / sec).toFixed(1), '-']);
  return rows;
}

/**
 * The long recording, each operation in a child process of its own (wall time and peak RSS of the
 * whole process, Node's own ~45 MB included): the clip is built, marked and then scanned.
 */
async function longRecording(): Promise<string[]> {
  const self = fileURLToPath(import.meta.url);
  const rows: (string | number)[][] = [];
  for (const mode of ['detect', 'payload'] as const) {
    const m = await measureProcess(process.execPath, ['--import', 'tsx', self, '--long', mode]);
    if (m.code !== 0) throw new Error(`long-recording ${mode} child failed: ${m.stderr}`);
    const r = JSON.parse(m.stdout.trim().split('\n').pop()!) as { seconds: number; clipSec: number; found: string };
    rows.push([mode === 'detect' ? 'scan (detect), 64 candidates + 128 decoys' : 'blind payload decode', (r.clipSec / r.seconds).toFixed(0), m.wallSec.toFixed(1), m.peakRssMB.toFixed(0), r.found]);
  }
  return [
    '',
    `## A long recording: ${LONG_MIN} minutes of fixture speech marked at session offset 3600 s, 60 s cut out of the middle`,
    '',
    'x realtime: the operation alone; wall time and peak RSS: the whole child process (building and marking the clip included).',
    '',
    markdownTable(['operation', 'x realtime', 'process wall s', 'peak RSS MB', 'found'], rows),
  ];
}

/** Child: build the long clip, run one operation, print its time and what it found as a JSON line. */
async function longChild(mode: string): Promise<void> {
  const voices = await loadVoices();
  const marked = embedAudio({ channels: [voiceLoop(voices, 60 * LONG_MIN)], sampleRate: RATE }, { key, token: 'speed', offsetSec: 3600 }).channels[0]!;
  const mid = Math.floor(marked.length / 2);
  const clip = new Float32Array(marked.length - 60 * RATE);
  clip.set(marked.subarray(0, mid));
  clip.set(marked.subarray(mid + 60 * RATE), mid);
  const audio = { channels: [clip], sampleRate: RATE };
  const t0 = performance.now();
  let found: string;
  if (mode === 'detect') {
    const r = detect(audio, { key, candidates: cands });
    found = r.legs.map((l) => `${l.token}: ${l.segments.map((s) => `${s.startSec.toFixed(1)}-${s.endSec.toFixed(1)} s @ ${s.sessionOffsetSec.toFixed(3)}`).join(', ')}`).join('; ') || 'none';
  } else {
    const p = decodePayload(audio, { key });
    found = p.payloadId === null ? 'no id' : `id ${p.payloadId}, pilot p ${p.pilotPValue.toExponential(1)}`;
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, clipSec: clip.length / RATE, found }));
}

if (process.argv[2] === '--long') await longChild(process.argv[3]!);
else await main();
