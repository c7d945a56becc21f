/**
 * Tail validation of mark v2's p-values (issue 13, item 4 and the must "the tail validation"):
 * `npm run bench:tail` -> benchmarks/results/tail-validation.md (`-- --quick`: a smoke run).
 *
 * What a v2 p-value claims (lib/mark/stats.ts, lib/mark/detect/leg-statistic.ts): at one place
 * (window, alignment, session chip) a leg's statistic Z = sum x s / sqrt(sum x^2) -- x the tiles'
 * features times the soft host bits (functions of the audio alone), s the leg layer's PRF signs --
 * has P(Z >= z) <= signSumTail(z) = min(exp(-z^2/2), c* Q(z)) whatever the host, when the leg is
 * not in the audio; the key-weighted variant too; the reported value is the larger of the two, so
 * 2 x signSumTail bounds it, and the detector's p-value is min(1, legs x places x 2 x signSumTail).
 *
 * 1. Per-place trials. Stress hosts are generated (1.024 s-periodic noise bursts, drum/tonal loops
 *    at 117, 120 and 123 BPM, ringback cadences, DTMF, TPDF dither at -90 dBFS and at the 16-bit
 *    LSB, speech gained +30 dB and hard-clipped, ordinary speech, a 2-hour speech loop), several
 *    marked with v2 for a real leg and some of those through AAC 64k. On each, the real detector's
 *    key-layer search (detect/search-span.ts) proposes places exactly as span-v2.ts enumerates
 *    them (a grid of phases and random session chips where it proposes fewer than MIN_PLACES), and
 *    at every place fresh decoy tokens -- each trial a token of its own, so the trials are
 *    independent given the host -- are scored with the detector's own functions (prepareLegPlace,
 *    keyWeights, legStatistic, imported, not reimplemented). legStatistic returns
 *    max(plain, weighted); the two are read separately through the same function: with every
 *    block weight 1 the weighted sum equals the plain one (so the call returns the signed plain
 *    Z), and with the place's total energy q set to 0 the plain one is 0 (the call returns
 *    max(0, weighted)). Tails at z >= 1 are therefore exact for both.
 *    Empirical P(Z >= z) with a two-sided 95% Clopper-Pearson interval's upper end, against
 *    signSumTail(z) (plain, weighted; 2 x for the max) and the normal tail Q(z).
 * 2. Consistency with the detector: on each host scanned whole, detect() with one token counts
 *    hypotheses = places x 2 -- the same places this benchmark enumerated -- and reports a score
 *    equal to this benchmark's maximum of that token's statistic over its places.
 * 3. Family-wise check through the public detector: detect(clip, { key, candidates, profile:
 *    PROFILE_V2 }) on clips of the stress hosts with 64 candidates that were never embedded; the
 *    fraction of candidate p-values <= t must stay <= t (t = 0.1, 0.01, 1e-3).
 *
 * Only audio is generated (never committed); the fixture voices (fixtures/speech) make the speech.
 * The raw trials go to benchmarks/work/tail-raw.json (not committed); `-- --report-only` (with the
 * run's other flags) rewrites the report from them without measuring again.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { applyChain, randomStream } from '../lib/channel/index.js';
import type { RandomStream } from '../lib/channel/index.js';
import { DetectorCache, detect } from '../lib/mark/detect/index.js';
import { LEG_STATISTICS, keyWeights, legStatistic, prepareLegPlace } from '../lib/mark/detect/leg-statistic.js';
import type { PreparedPlace } from '../lib/mark/detect/leg-statistic.js';
import { searchSpan } from '../lib/mark/detect/search-span.js';
import { BLOCKS_PER_PROPOSAL, BLOCKS_PER_SUBPROPOSAL, KEY_LAYER_PLAN, proposalsOf, topBlocks } from '../lib/mark/detect/span-v2.js';
import type { SpanSearch } from '../lib/mark/detect/search-span.js';
import type { ResidueScores } from '../lib/mark/detect/timecode-search.js';
import { DETECT_DEFAULTS } from '../lib/mark/detect/types.js';
import { Workspace } from '../lib/mark/detect/workspace.js';
import { embedAudio } from '../lib/mark/embed.js';
import { keyFromBytes } from '../lib/mark/keys.js';
import type { MarkKey } from '../lib/mark/keys.js';
import { LegLayer } from '../lib/mark/pattern.js';
import { pieceStarts } from '../lib/mark/pieces.js';
import { PROFILE_V2 } from '../lib/mark/profile.js';
import type { MarkProfile } from '../lib/mark/profile.js';
import { chipRange } from '../lib/mark/search.js';
import type { Hypothesis } from '../lib/mark/search.js';
import { VALIDATED_TAIL, normalTail, signSumTail } from '../lib/mark/stats.js';
import { markdownTable, provenance, rms, root, workDir, writeResult } from './lib.js';
import { RATE, loadVoices, voiceLoop } from './meeting.js';

// ---------------------------------------------------------------------------------------------
// Statistics helpers (exported: the validated floor is what a report may print down to)

/** ln Gamma (Lanczos, g = 7, n = 9; relative error ~1e-15). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized incomplete beta I_x(a, b) (continued fraction, Numerical Recipes betacf). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  const cf = (xx: number, aa: number, bb: number): number => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 10000; m++) {
      const m2 = 2 * m;
      let an = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + an * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + an / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      an = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + an * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + an / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-14) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (front * cf(x, a, b)) / a : 1 - (front * cf(1 - x, b, a)) / b;
}

/** P(Bin(n, p) <= k). */
function binomialCdf(k: number, n: number, p: number): number {
  if (k >= n) return 1;
  if (k < 0) return 0;
  return incompleteBeta(1 - p, n - k, k + 1);
}

/**
 * Upper end of the two-sided Clopper-Pearson interval for k successes in n trials at confidence
 * `level` (default 95%: the p with P(Bin(n, p) <= k) = 2.5%). k = 0: 1 - 0.025^(1/n) ~ 3.69 / n.
 */
export function clopperPearsonUpper(k: number, n: number, level = 0.95): number {
  const a = (1 - level) / 2;
  if (n <= 0) return 1;
  if (k >= n) return 1;
  if (k === 0) return 1 - a ** (1 / n);
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (binomialCdf(k, n, mid) > a) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Lower end of the two-sided Clopper-Pearson interval (the p with P(Bin(n, p) >= k) = 2.5%). */
export function clopperPearsonLower(k: number, n: number, level = 0.95): number {
  const a = (1 - level) / 2;
  if (k <= 0 || n <= 0) return 0;
  if (k >= n) return a ** (1 / n);
  let lo = 0;
  let hi = k / n;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (1 - binomialCdf(k - 1, n, mid) < a) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The validated floor of a tail bound: from `values` (one statistic per independent trial), the
 * smallest bound level b(z*) such that at every z <= z* on the grid (step 0.01 from zFrom) the 95%
 * Clopper-Pearson upper end of the empirical P(Z >= z) is at most b(z) -- the data support the
 * bound down to there and no further. With n trials and none beyond, the floor is ~3.7 / n.
 * Returns the floor, z*, and the first z where the upper end exceeded the bound (undefined if none
 * up to zTo).
 */
export function validatedFloor(values: Float64Array, bound: (z: number) => number, opts: { zFrom?: number; zTo?: number } = {}): { floor: number; z: number; brokenAt: number | undefined; countThere: number; trials: number } {
  const zFrom = opts.zFrom ?? 1;
  const zTo = opts.zTo ?? 10;
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let zStar = zFrom;
  let brokenAt: number | undefined;
  let countThere = 0;
  for (let i = 0; ; i++) {
    const z = zFrom + 0.01 * i;
    if (z > zTo + 1e-9) break;
    const k = n - lowerBound(sorted, z);
    if (clopperPearsonUpper(k, n) > bound(z)) {
      brokenAt = z;
      countThere = k;
      break;
    }
    zStar = z;
  }
  return { floor: bound(zStar), z: zStar, brokenAt, countThere, trials: n };
}

/** Index of the first element >= v in an ascending array. */
function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Options

const QUICK = process.argv.includes('--quick');
/** `--only=name,name`: a subset of the hosts (for trying things; the results file says so). */
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const PROFILE: MarkProfile = PROFILE_V2;
/** Trials per host (default 22 hosts x 50,000 = 1.1e6). */
const TRIALS_PER_HOST = QUICK ? 1500 : 50_000;
/** Host length (s; one detector span: <= 1.25 x 256 s is scanned whole). */
const HOST_SEC = QUICK ? 40 : 256;
const LONG_SEC = QUICK ? 600 : 7200;
/** Pieces of the 2-hour clip whose places get trials (spread over the clip). */
const LONG_PIECES = QUICK ? 2 : 6;
/** Below this many proposal places, grid places fill up to it. */
const MIN_PLACES = 64;
/** Family-wise check: scans per host (marked hosts, where the key layer proposes places, and unmarked ones), candidates per scan. */
const FW_SCANS_MARKED = QUICK ? 1 : 16;
const FW_SCANS_UNMARKED = QUICK ? 1 : 8;
const FW_CANDIDATES = 64;
/** Candidates of the 2-hour clip's whole scan (its cost grows with candidates x places). */
const FW_LONG_CANDIDATES = 32;
const FW_CLIP_SEC = [10, 30, 64] as const;
/** The 2-hour clip scanned whole by detect() (one scan of 64 candidates). */
const FW_LONG = !QUICK;
const Z_REPORT = [1, 2, 3, 3.5, 4, 4.5, 5, 5.5] as const;
/** A ratio observed / bound counts where the bound predicts at least this many exceedances. */
const MIN_EXPECTED = 10;
const REAL_TOKEN = 'tail-real-leg-A';
const SEED = 20240613;

const key: MarkKey = keyFromBytes(createHash('sha256').update('earmark/benchmarks/tail-validation/key').digest());

// ---------------------------------------------------------------------------------------------
// Stress hosts

function normal(r: RandomStream): number {
  let u = r.uniform();
  while (u <= 1e-300) u = r.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.uniform());
}

function tile(loop: Float32Array, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < out.length; i += loop.length) out.set(loop.subarray(0, Math.min(loop.length, out.length - i)), i);
  return out;
}

/** A 1.024 s noise burst (white noise under a decaying loudness envelope), repeated exactly. */
function periodicNoise(seconds: number): Float32Array {
  const r = randomStream(SEED, 'tail/noise-1024');
  const n = Math.round(1.024 * RATE);
  const burst = new Float32Array(n);
  for (let i = 0; i < n; i++) burst[i] = normal(r) * (0.1 + Math.exp(-i / RATE / 0.2));
  const g = 0.1 / rms(burst);
  for (let i = 0; i < n; i++) burst[i]! *= g;
  return tile(burst, seconds);
}

/** A two-bar drum and tonal loop (kick, snare, hi-hat, bass line, chord pad) at `bpm`, repeated sample-exactly. */
function musicLoop(bpm: number, seconds: number): Float32Array {
  const r = randomStream(SEED, `tail/music-${bpm}`);
  const beat = 60 / bpm;
  const n = Math.round(8 * beat * RATE);
  const x = new Float64Array(n);
  const add = (t0: number, len: number, f: (t: number) => number): void => {
    const i0 = Math.round(t0 * RATE);
    for (let i = 0; i < Math.round(len * RATE); i++) x[(i0 + i) % n]! += f(i / RATE);
  };
  for (let b = 0; b < 8; b++) {
    const t0 = b * beat;
    if (b % 2 === 0) {
      // Kick: sine sweeping 120 -> 45 Hz.
      let ph = 0;
      add(t0, 0.3, (t) => {
        ph += (2 * Math.PI * (45 + 75 * Math.exp(-t / 0.04))) / RATE;
        return 0.7 * Math.exp(-t / 0.12) * Math.sin(ph);
      });
    } else {
      // Snare: noise and a 190 Hz body.
      add(t0, 0.25, (t) => Math.exp(-t / 0.07) * (0.25 * normal(r) + 0.2 * Math.sin(2 * Math.PI * 190 * t)));
    }
    // Hi-hat on every eighth: differentiated noise.
    for (const h of [0, 0.5]) {
      let prev = 0;
      add(t0 + h * beat, 0.06, (t) => {
        const v = normal(r);
        const y = v - prev;
        prev = v;
        return 0.06 * Math.exp(-t / 0.015) * y;
      });
    }
    // Bass: sawtooth notes (A1 C2 D2 E2 ...), one per beat.
    const f0 = [55, 55, 65.41, 73.42, 55, 82.41, 73.42, 65.41][b]!;
    add(t0, beat * 0.9, (t) => 0.18 * Math.exp(-t / 0.4) * (2 * ((f0 * t) % 1) - 1));
  }
  // Chord pad per bar (A minor, F major), four harmonics per tone.
  const chords = [
    [220, 261.63, 329.63],
    [174.61, 220, 261.63],
  ];
  for (let bar = 0; bar < 2; bar++)
    for (const f of chords[bar]!)
      add(bar * 4 * beat, 4 * beat, (t) => {
        const env = Math.min(1, t / 0.05) * Math.min(1, (4 * beat - t) / 0.05);
        let v = 0;
        for (let h = 1; h <= 4; h++) v += Math.sin(2 * Math.PI * f * h * t) / h;
        return 0.04 * env * v;
      });
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  return tile(Float32Array.from(x, (v) => (0.9 * v) / peak), seconds);
}

/** A cadenced tone: `freqs` summed at `amp` each, `on` s on and `off` s off, 2 ms ramps. */
function cadence(freqs: readonly number[], amp: number, on: number, off: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  const period = on + off;
  const ramp = 0.002;
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    const u = t % period;
    if (u >= on) continue;
    const env = Math.min(1, u / ramp, (on - u) / ramp);
    let v = 0;
    for (const f of freqs) v += Math.sin(2 * Math.PI * f * t);
    out[i] = amp * env * v;
  }
  return out;
}

/** DTMF digit sequences: random digits, 70-200 ms tones, 60-300 ms gaps, 1-3 s between sequences. */
function dtmf(seconds: number): Float32Array {
  const r = randomStream(SEED, 'tail/dtmf');
  const low = [697, 770, 852, 941];
  const high = [1209, 1336, 1477, 1633];
  const out = new Float32Array(Math.round(seconds * RATE));
  let t = 0.3;
  while (t < seconds) {
    const digits = 4 + Math.floor(r.uniform() * 8);
    for (let d = 0; d < digits && t < seconds; d++) {
      const fl = low[Math.floor(r.uniform() * 4)]!;
      const fh = high[Math.floor(r.uniform() * 4)]!;
      const len = r.between(0.07, 0.2);
      const i0 = Math.round(t * RATE);
      for (let i = 0; i < Math.round(len * RATE) && i0 + i < out.length; i++) {
        const u = i / RATE;
        const env = Math.min(1, u / 0.002, (len - u) / 0.002);
        out[i0 + i] = 0.2 * env * (Math.sin(2 * Math.PI * fl * u) + Math.sin(2 * Math.PI * fh * u));
      }
      t += len + r.between(0.06, 0.3);
    }
    t += r.between(1, 3);
  }
  return out;
}

/** TPDF dither: at an RMS of `dbfs`, or (lsb) of digital silence quantized to 16 bits (values -1, 0, +1 LSB). */
function dither(seconds: number, mode: 'dbfs-90' | 'lsb16'): Float32Array {
  const r = randomStream(SEED, `tail/dither-${mode}`);
  const out = new Float32Array(Math.round(seconds * RATE));
  const a = Math.sqrt(6) * 10 ** (-90 / 20);
  for (let i = 0; i < out.length; i++) {
    const v = r.uniform() - r.uniform();
    out[i] = mode === 'lsb16' ? Math.round(v) / 32768 : a * v;
  }
  return out;
}

function gainClip(x: Float32Array, db: number): Float32Array {
  const g = 10 ** (db / 20);
  return Float32Array.from(x, (v) => Math.max(-1, Math.min(1, v * g)));
}

interface Host {
  name: string;
  /** Host class (the tables' rows). */
  cls: string;
  /** Leg marked with v2 (and the session offset), or none. */
  marked: boolean;
  channel: string;
  samples: Float32Array;
}

async function aac64(x: Float32Array): Promise<Float32Array> {
  return (await applyChain({ channels: [x], sampleRate: RATE }, 'aac:64')).channels[0]!;
}

function markV2(x: Float32Array, offsetSec: number): Float32Array {
  return embedAudio({ channels: [x], sampleRate: RATE }, { key, token: REAL_TOKEN, offsetSec, profile: PROFILE }).channels[0]!;
}

interface HostSpec {
  name: string;
  cls: string;
  make: () => Float32Array;
  /** Mark before `post` (then `post`, e.g. gain and clipping), then the channel. */
  mark?: boolean;
  post?: (x: Float32Array) => Float32Array;
  aac?: boolean;
  seconds: number;
}

async function makeHost(spec: HostSpec, index: number): Promise<Host> {
  let x = spec.make();
  const offsetSec = 1000 + ((index * 7919.37) % 30000);
  if (spec.mark) x = markV2(x, offsetSec);
  if (spec.post) x = spec.post(x);
  if (spec.aac) x = await aac64(x);
  return { name: spec.name, cls: spec.cls, marked: !!spec.mark, channel: spec.aac ? 'AAC 64k' : 'none', samples: x };
}

// ---------------------------------------------------------------------------------------------
// Places: the detector's (span-v2.ts step 2), enumerated the same way


/** One alignment of a window (prepared once), with the session chips n0 tested there. */
interface PlaceGroup {
  wi: number;
  level: number;
  hyp: Hypothesis;
  /** Session chip the host bits are computed at (the proposal's n0). */
  hostN0: number;
  /** Session chips n0 of relative chip 0 tested (one per block x cycle), and the pn0 its weights come from. */
  n0s: { n0: number; pn0: number }[];
  source: 'proposal' | 'grid';
}

function enumeratePlaces(s: SpanSearch, keyTables: ReturnType<DetectorCache['tables']>, profile: MarkProfile): PlaceGroup[] {
  const P = profile.period;
  const Tc = profile.chipSec;
  const cycleChips = P * profile.blockPeriods[0] * profile.blockPeriods[1];
  const reachChips = Math.floor(profile.reachSec / Tc + 1e-9);
  const cycles = Math.ceil(reachChips / cycleChips);
  const out: PlaceGroup[] = [];
  for (let wi = 0; wi < s.windows.length; wi++) {
    const w = s.windows[wi]!;
    for (const p of proposalsOf(s.best[0]![wi], s.entries[0]![wi]!, PROFILE.chipSec)) {
      const f = s.features.exact(p.hyp, w);
      const [ma, mb] = chipRange(w, p.hyp, Tc, f.chips);
      if (mb - ma < P) continue;
      const shift = p.n0 % P;
      const res: ResidueScores = { a: new Float64Array(profile.blockPeriods[0]), b: new Float64Array(profile.blockPeriods[1]), cSync: 0, v: 0 };
      if (!s.search.fullScore(keyTables, f, ma, mb, shift, res)) continue;
      const g: PlaceGroup = { wi, level: w.level, hyp: p.hyp, hostN0: p.n0, n0s: [], source: 'proposal' };
      for (const block of topBlocks(res, w.level === 0 ? BLOCKS_PER_PROPOSAL : BLOCKS_PER_SUBPROPOSAL, profile)) {
        const pn0 = block * P + shift;
        for (let a = 0; a < cycles; a++) {
          const n0 = pn0 + a * cycleChips;
          if (n0 + ma < 0 || n0 + mb > reachChips) continue;
          g.n0s.push({ n0, pn0 });
        }
      }
      // A group is kept even when empty (the detector prepared it too); it holds no places then.
      out.push(g);
    }
  }
  return out;
}

/** Grid places: level-0 windows at rate 1, coarse chip phases, random session chips. */
function gridPlaces(s: SpanSearch, profile: MarkProfile, count: number, r: RandomStream): PlaceGroup[] {
  const Tc = profile.chipSec;
  const reachChips = Math.floor(profile.reachSec / Tc + 1e-9);
  const lvl0 = s.windows.map((w, wi) => ({ w, wi })).filter((x) => x.w.level === 0);
  const out: PlaceGroup[] = [];
  for (let i = 0; i < count; i++) {
    const { w, wi } = lvl0[i % lvl0.length]!;
    const rate1 = w.hyps.filter((h) => h.rate === 1);
    const hyp = rate1[Math.floor(i / lvl0.length) % rate1.length]!;
    const n0 = Math.floor(r.uniform() * (reachChips - Math.ceil((w.endSec * hyp.rate) / Tc) - 8));
    out.push({ wi, level: 0, hyp, hostN0: n0, n0s: [{ n0, pn0: n0 }], source: 'grid' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Trials

interface HostTrials {
  host: Host;
  plain: Float64Array;
  weighted: Float64Array;
  combined: Float64Array;
  n: number;
  places: { proposal: number; grid: number };
  /** Per place: effective tile counts of the plain statistic, (sum x^2)^2 / sum x^4, and of the weighted one (x times its block's weight); window level, source. */
  nEff: number[];
  placeInfo: PlaceInfo[];
  /** Place index of each trial. */
  placeOf: Int32Array;
  /** Places with no tile (Z = 0 there). */
  emptyPlaces: number;
  /** max(plain, weighted) != combined beyond rounding. */
  mismatches: number;
  /** Consistency with detect() (hosts scanned whole): hypotheses and the check token's score. */
  check?: { detectorPlaces: number; places: number; detectorScore: number; score: number };
  seconds: number;
}

interface PlaceInfo {
  nEff: number;
  nEffW: number;
  level: number;
  windowSec: number;
  source: 'proposal' | 'grid';
}

let nextDecoy = 1_000_000;

/** The key layer's search over one span (as detect would run it) and its places. */
function spanPlaces(samples: Float32Array, alpha: number, r: RandomStream): { s: SpanSearch; groups: PlaceGroup[]; keyTables: ReturnType<DetectorCache['tables']>; cache: DetectorCache } | undefined {
  const cache = new DetectorCache();
  const ctx = { cache, workspace: new Workspace() };
  const keyTables = cache.tables(key, { keyLayer: true }, PROFILE);
  const s = searchSpan(samples, RATE, { key, candidates: [], profile: PROFILE, alpha }, PROFILE, { candidates: [keyTables], ...KEY_LAYER_PLAN }, ctx);
  if (!s) return undefined;
  const groups = enumeratePlaces(s, keyTables, PROFILE);
  const count = groups.reduce((a, g) => a + g.n0s.length, 0);
  if (count < MIN_PLACES) groups.push(...gridPlaces(s, PROFILE, MIN_PLACES - count, r));
  return { s, groups, keyTables, cache };
}

/**
 * Score `trialsPerPlace` fresh decoy tokens at every place of the groups (and the check leg once
 * per place, its maximum returned). Results appended to `acc`.
 */
function runTrials(s: SpanSearch, groups: PlaceGroup[], keyTables: ReturnType<DetectorCache['tables']>, hostHash: ReturnType<DetectorCache['hostHash']>, trialsPerPlace: number, acc: HostTrials, checkLeg: LegLayer | undefined): number {
  const profile = PROFILE;
  const Tc = profile.chipSec;
  let checkMax = -Infinity;
  let bc = new Float64Array(0);
  for (const g of groups) {
    if (g.n0s.length === 0) continue;
    const w = s.windows[g.wi]!;
    const f = s.features.exact(g.hyp, w);
    const [ma, mb] = chipRange(w, g.hyp, Tc, f.chips);
    const place: PreparedPlace = prepareLegPlace(s.analysis, hostHash, keyTables.pattern, f, g.hyp, g.hostN0, ma, mb);
    const noPlain: PreparedPlace = { ...place, q: 0 };
    const B = place.qBlock.length;
    const ones = new Float64Array(B).fill(1);
    if (bc.length < B) bc = new Float64Array(2 * B);
    let s2 = 0;
    let s4 = 0;
    for (const v of place.x) (s2 += v * v), (s4 += v ** 4);
    for (const { n0, pn0 } of g.n0s) {
      const weights = keyWeights(f, keyTables.pattern, pn0, ma, mb, profile);
      g.source === 'proposal' ? acc.places.proposal++ : acc.places.grid++;
      acc.nEff.push(s4 > 0 ? (s2 * s2) / s4 : 0);
      let w2 = 0;
      let w4 = 0;
      for (let i = 0; i < place.x.length; i++) {
        const v = place.x[i]! * weights[place.block[i]!]!;
        (w2 += v * v), (w4 += v ** 4);
      }
      const pi = acc.placeInfo.length;
      acc.placeInfo.push({ nEff: s4 > 0 ? (s2 * s2) / s4 : 0, nEffW: w4 > 0 ? (w2 * w2) / w4 : 0, level: w.level, windowSec: w.endSec - w.startSec, source: g.source });
      if (place.x.length === 0) acc.emptyPlaces++;
      // The detector scores candidates at its proposals only (grid places are this benchmark's).
      if (checkLeg && g.source === 'proposal') checkMax = Math.max(checkMax, legStatistic(place, checkLeg, n0, ma, mb, weights, bc));
      for (let t = 0; t < trialsPerPlace; t++) {
        const leg = new LegLayer(key, { decoy: nextDecoy++ }, profile);
        const zc = legStatistic(place, leg, n0, ma, mb, weights, bc);
        const zp = legStatistic(place, leg, n0, ma, mb, ones, bc);
        const zw = legStatistic(noPlain, leg, n0, ma, mb, weights, bc);
        const mx = Math.max(zp, zw);
        if ((mx > 0 || zc > 0) && Math.abs(mx - zc) > 1e-9 * Math.max(1, Math.abs(zc))) acc.mismatches++;
        const i = acc.n++;
        if (i >= acc.plain.length) grow(acc);
        acc.plain[i] = zp;
        acc.weighted[i] = zw;
        acc.combined[i] = zc;
        acc.placeOf[i] = pi;
      }
    }
  }
  return checkMax;
}

function grow(acc: HostTrials): void {
  const cap = Math.max(1024, 2 * acc.plain.length);
  for (const k of ['plain', 'weighted', 'combined'] as const) {
    const a = new Float64Array(cap);
    a.set(acc[k]);
    acc[k] = a;
  }
  const po = new Int32Array(cap);
  po.set(acc.placeOf);
  acc.placeOf = po;
}

function placeCount(groups: readonly PlaceGroup[]): number {
  return groups.reduce((a, g) => a + g.n0s.length, 0);
}

async function hostTrials(host: Host, budget: number): Promise<HostTrials> {
  const t0 = Date.now();
  const acc: HostTrials = { host, plain: new Float64Array(0), weighted: new Float64Array(0), combined: new Float64Array(0), n: 0, places: { proposal: 0, grid: 0 }, nEff: [], placeInfo: [], placeOf: new Int32Array(0), emptyPlaces: 0, mismatches: 0, seconds: 0 };
  const r = randomStream(SEED, `tail/grid/${host.name}`);
  const D = host.samples.length / RATE;
  const pieceSec = DETECT_DEFAULTS.pieceSec;
  const overlap = DETECT_DEFAULTS.maxWindowSec;
  if (!(D > 1.25 * pieceSec)) {
    // One span, as detect() scans it; checked against detect() with one token.
    const sp = spanPlaces(host.samples, DETECT_DEFAULTS.alpha, r);
    if (!sp) throw new Error(`${host.name}: no windows`);
    const per = Math.max(1, Math.ceil(budget / Math.max(1, placeCount(sp.groups))));
    const checkToken = `tail-check-${host.name}`;
    const checkLeg = new LegLayer(key, checkToken, PROFILE);
    const score = runTrials(sp.s, sp.groups, sp.keyTables, sp.cache.hostHash(key, PROFILE), per, acc, checkLeg);
    const dr = detect({ channels: [host.samples], sampleRate: RATE }, { key, candidates: [checkToken], profile: PROFILE });
    const proposalPlaces = placeCount(sp.groups.filter((g) => g.source === 'proposal'));
    acc.check = { detectorPlaces: dr.hypotheses / LEG_STATISTICS, places: proposalPlaces, detectorScore: dr.scores[0]!.score, score: Number.isFinite(score) ? score : 0 };
  } else {
    // Long clip: pieces as detect() cuts them (each searched at alpha / pieces), a spread subset.
    const starts = pieceStarts(D, pieceSec, overlap);
    const pick = Array.from({ length: Math.min(LONG_PIECES, starts.length) }, (_, i) => starts[Math.round((i * (starts.length - 1)) / Math.max(1, LONG_PIECES - 1))]!);
    const spans = pick.map((a) => {
      const from = Math.round(a * RATE);
      const sp = spanPlaces(host.samples.subarray(from, Math.min(host.samples.length, from + Math.round(pieceSec * RATE))), DETECT_DEFAULTS.alpha / starts.length, r);
      if (!sp) throw new Error(`${host.name}: no windows in a piece`);
      return sp;
    });
    const total = spans.reduce((a, sp) => a + placeCount(sp.groups), 0);
    const per = Math.max(1, Math.ceil(budget / Math.max(1, total)));
    for (const sp of spans) runTrials(sp.s, sp.groups, sp.keyTables, sp.cache.hostHash(key, PROFILE), per, acc, undefined);
  }
  for (const k of ['plain', 'weighted', 'combined'] as const) acc[k] = acc[k].slice(0, acc.n);
  acc.placeOf = acc.placeOf.slice(0, acc.n);
  acc.seconds = (Date.now() - t0) / 1000;
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Family-wise check through detect()

interface FwScan {
  host: string;
  cls: string;
  clipSec: number;
  pValues: number[];
  hypotheses: number;
  maxScore: number;
  decoyLegs: { samples: number; rms: number; max: number } | undefined;
  seconds: number;
}

let fwScanIndex = 0;

function fwScan(host: Host, x: Float32Array, cache: DetectorCache, count = FW_CANDIDATES): FwScan {
  const t0 = Date.now();
  const s = fwScanIndex++;
  const candidates = Array.from({ length: count }, (_, i) => `tail-fw-${s}-${i}`);
  const r = detect({ channels: [x], sampleRate: RATE }, { key, candidates, profile: PROFILE, cache });
  const named = r.legs.filter((l) => candidates.includes(l.token));
  if (named.length) console.log(`  !! ${host.name}: a never-embedded candidate was named (${named.map((l) => `${l.token} p=${l.pValue}`).join(', ')})`);
  return {
    host: host.name,
    cls: host.cls,
    clipSec: x.length / RATE,
    pValues: r.scores.map((c) => c.pValue),
    hypotheses: r.hypotheses,
    maxScore: maxOf(r.scores.map((c) => c.score)),
    decoyLegs: r.decoyLegs,
    seconds: (Date.now() - t0) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

type Stat = 'plain' | 'weighted' | 'combined';
const STATS: readonly Stat[] = ['plain', 'weighted', 'combined'];
const STAT_LABEL: Record<Stat, string> = { plain: 'plain Z', weighted: 'key-weighted Z', combined: 'reported max(plain, weighted)' };
/** The bound of each statistic: signSumTail, and twice that for the maximum of the two. */
const boundOf = (stat: Stat) => (z: number) => Math.min(1, (stat === 'combined' ? 2 : 1) * signSumTail(z));

function fmt(x: number, digits = 3): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e-2 && a < 1e4 ? x.toPrecision(digits) : x.toExponential(digits - 1);
}

function countAtLeast(a: Float64Array, z: number): number {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! >= z) k++;
  return k;
}

interface TailRow {
  z: number;
  n: number;
  k: number;
  p: number;
  upper: number;
  bound: number;
  q: number;
}

function tailRows(values: Float64Array, stat: Stat): TailRow[] {
  const n = values.length;
  return Z_REPORT.map((z) => {
    const k = countAtLeast(values, z);
    return { z, n, k, p: k / n, upper: clopperPearsonUpper(k, n), bound: boundOf(stat)(z), q: (stat === 'combined' ? 2 : 1) * normalTail(z) };
  });
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Largest / smallest of an array of any length (spreading a million values overflows the stack). */
function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
function minOf(a: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! < m) m = a[i]!;
  return m;
}

function median(a: number[]): number {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const tStart = Date.now();
  console.log(`tail validation${QUICK ? ' (quick)' : ''}: ${TRIALS_PER_HOST} trials per host, hosts ${HOST_SEC} s, long clip ${LONG_SEC} s; ${availableParallelism()} cores`);
  const voices = await loadVoices();
  const speech = (sec: number) => voiceLoop(voices, sec);
  const specs: HostSpec[] = [
    { name: 'noise-1024', cls: 'periodic noise 1.024 s', make: () => periodicNoise(HOST_SEC), seconds: HOST_SEC },
    { name: 'noise-1024+v2', cls: 'periodic noise 1.024 s', make: () => periodicNoise(HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'noise-1024+v2+aac64', cls: 'periodic noise 1.024 s', make: () => periodicNoise(HOST_SEC), mark: true, aac: true, seconds: HOST_SEC },
    { name: 'music-117+v2', cls: 'music loops 117-123 BPM', make: () => musicLoop(117, HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'music-120', cls: 'music loops 117-123 BPM', make: () => musicLoop(120, HOST_SEC), seconds: HOST_SEC },
    { name: 'music-120+v2+aac64', cls: 'music loops 117-123 BPM', make: () => musicLoop(120, HOST_SEC), mark: true, aac: true, seconds: HOST_SEC },
    { name: 'music-123+v2', cls: 'music loops 117-123 BPM', make: () => musicLoop(123, HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'ringback-425+v2', cls: 'ringback', make: () => cadence([425], 0.2, 1, 4, HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'ringback-us', cls: 'ringback', make: () => cadence([440, 480], 0.1, 2, 4, HOST_SEC), seconds: HOST_SEC },
    { name: 'ringback-us+v2+aac64', cls: 'ringback', make: () => cadence([440, 480], 0.1, 2, 4, HOST_SEC), mark: true, aac: true, seconds: HOST_SEC },
    { name: 'dtmf', cls: 'DTMF', make: () => dtmf(HOST_SEC), seconds: HOST_SEC },
    { name: 'dtmf+v2', cls: 'DTMF', make: () => dtmf(HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'dtmf+v2+aac64', cls: 'DTMF', make: () => dtmf(HOST_SEC), mark: true, aac: true, seconds: HOST_SEC },
    { name: 'dither-90dBFS', cls: 'dither', make: () => dither(HOST_SEC, 'dbfs-90'), seconds: HOST_SEC },
    { name: 'dither-16bit-lsb', cls: 'dither', make: () => dither(HOST_SEC, 'lsb16'), seconds: HOST_SEC },
    { name: 'clipped-speech', cls: 'hard-clipped speech (+30 dB)', make: () => speech(HOST_SEC), post: (x) => gainClip(x, 30), seconds: HOST_SEC },
    { name: 'v2+clipped-speech', cls: 'hard-clipped speech (+30 dB)', make: () => speech(HOST_SEC), mark: true, post: (x) => gainClip(x, 30), seconds: HOST_SEC },
    { name: 'v2+clipped-speech+aac64', cls: 'hard-clipped speech (+30 dB)', make: () => speech(HOST_SEC), mark: true, post: (x) => gainClip(x, 30), aac: true, seconds: HOST_SEC },
    { name: 'speech', cls: 'speech', make: () => speech(HOST_SEC), seconds: HOST_SEC },
    { name: 'speech+v2', cls: 'speech', make: () => speech(HOST_SEC), mark: true, seconds: HOST_SEC },
    { name: 'speech+v2+aac64', cls: 'speech', make: () => speech(HOST_SEC), mark: true, aac: true, seconds: HOST_SEC },
    { name: `speech-${LONG_SEC / 3600 >= 1 ? `${LONG_SEC / 3600}h` : `${LONG_SEC}s`}+v2+aac64`, cls: '2-hour clip (speech loop)', make: () => speech(LONG_SEC), mark: true, aac: true, seconds: LONG_SEC },
  ];

  if (ONLY) specs.splice(0, specs.length, ...specs.filter((x) => ONLY.includes(x.name)));
  const results: HostTrials[] = [];
  const fw: FwScan[] = [];
  const fwCache = new DetectorCache();
  const fwRand = randomStream(SEED, 'tail/fw-clips');
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const tH = Date.now();
    const host = await makeHost(spec, i);
    const tr = await hostTrials(host, TRIALS_PER_HOST);
    results.push(tr);
    const c = tr.check;
    console.log(
      `${host.name}: ${tr.n} trials at ${tr.places.proposal} proposal + ${tr.places.grid} grid places, rms(plain) ${fmt(Math.sqrt(tr.plain.reduce((a, v) => a + v * v, 0) / tr.n))}, max plain ${fmt(maxOf(tr.plain))} weighted ${fmt(maxOf(tr.weighted))}` +
        (c ? `; detector places ${c.detectorPlaces} (here ${c.places}), check score ${fmt(c.detectorScore, 6)} (here ${fmt(c.score, 6)})` : '') +
        ` [${tr.seconds.toFixed(0)} s]`,
    );
    // Family-wise: clips of this host through detect() with never-embedded candidates.
    const D = host.samples.length / RATE;
    for (let j = 0; j < (host.marked ? FW_SCANS_MARKED : FW_SCANS_UNMARKED); j++) {
      const L = Math.min(D, FW_CLIP_SEC[j % FW_CLIP_SEC.length]!);
      const a = Math.floor(fwRand.uniform() * (D - L) * RATE);
      fw.push(fwScan(host, host.samples.subarray(a, a + Math.round(L * RATE)), fwCache));
    }
    if (FW_LONG && D > 1.25 * DETECT_DEFAULTS.pieceSec) fw.push(fwScan(host, host.samples, fwCache, FW_LONG_CANDIDATES));
    host.samples = new Float32Array(0);
    const mine = fw.filter((f) => f.host === host.name);
    console.log(`  family-wise: ${mine.length} scans, ${mine.reduce((a, f) => a + f.pValues.length, 0)} p-values, min p ${fmt(minOf(mine.flatMap((f) => f.pValues)))} [${((Date.now() - tH) / 1000).toFixed(0)} s for the host]`);
  }
  const wallSec = (Date.now() - tStart) / 1000;
  const meta: RunMeta = { args: runArgs(), wallSec, provenance: provenance(), dirty: spawnSync('git', ['status', '--porcelain', '--', 'lib'], { encoding: 'utf8', cwd: root }).stdout.trim() };
  // The raw trials first (benchmarks/work, not committed): `--report-only` rewrites the report from them.
  saveRaw(results, fw, meta);
  writeResult('tail-validation.md', report(results, fw, meta));
  console.log(`wrote benchmarks/results/tail-validation.md (${(wallSec / 60).toFixed(1)} min)`);
}

interface RunMeta {
  /** The run's flags (--quick, --only=...): the report's method text depends on them. */
  args: string;
  wallSec: number;
  provenance: string;
  /** `git status --porcelain -- lib` when the run ended. */
  dirty: string;
}

function runArgs(): string {
  return [QUICK ? '--quick' : '', ONLY ? `--only=${ONLY.join(',')}` : ''].filter(Boolean).join(' ');
}

const RAW_PATH = join(workDir, 'tail-raw.json');

function b64(a: Float64Array | Int32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function saveRaw(results: HostTrials[], fw: FwScan[], meta: RunMeta): void {
  const hosts = results.map((r) => ({
    ...r,
    host: { name: r.host.name, cls: r.host.cls, marked: r.host.marked, channel: r.host.channel },
    plain: b64(r.plain),
    weighted: b64(r.weighted),
    combined: b64(r.combined),
    placeOf: b64(r.placeOf),
  }));
  writeFileSync(RAW_PATH, JSON.stringify({ meta, hosts, fw }));
}

function loadRaw(): { results: HostTrials[]; fw: FwScan[]; meta: RunMeta } {
  const raw = JSON.parse(readFileSync(RAW_PATH, 'utf8')) as { meta: RunMeta; fw: FwScan[]; hosts: (Omit<HostTrials, 'host' | 'plain' | 'weighted' | 'combined' | 'placeOf'> & { host: Omit<Host, 'samples'>; plain: string; weighted: string; combined: string; placeOf: string })[] };
  if (raw.meta.args !== runArgs()) throw new Error(`${RAW_PATH} was measured with "${raw.meta.args}", not "${runArgs()}"`);
  const bytes = (t: string): ArrayBuffer => {
    const b = Buffer.from(t, 'base64');
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const results = raw.hosts.map((h) => ({
    ...h,
    host: { ...h.host, samples: new Float32Array(0) },
    plain: new Float64Array(bytes(h.plain)),
    weighted: new Float64Array(bytes(h.weighted)),
    combined: new Float64Array(bytes(h.combined)),
    placeOf: new Int32Array(bytes(h.placeOf)),
  }));
  return { results, fw: raw.fw, meta: raw.meta };
}

function report(results: HostTrials[], fw: FwScan[], meta: RunMeta): string {
  const wallSec = meta.wallSec;
  const L: string[] = [];
  const N = results.reduce((a, r) => a + r.n, 0);
  const classes = [...new Set(results.map((r) => r.host.cls))];
  const all = Object.fromEntries(STATS.map((s) => [s, concat(results.map((r) => r[s]))])) as Record<Stat, Float64Array>;
  const floors = Object.fromEntries(STATS.map((s) => [s, validatedFloor(all[s], boundOf(s))])) as Record<Stat, ReturnType<typeof validatedFloor>>;
  // Every (scope, statistic, z) cell: host, class and the whole. A cell "reaches" the bound when
  // the bound predicts at least MIN_EXPECTED exceedances (n x bound >= 10): only there is a ratio
  // observed / bound informative (one event among 1,536 trials at z 4 reads 6x the bound). An
  // exceedance is significant when the bound lies below the 95% interval's lower end.
  interface Worst {
    ratio: number;
    where: string;
  }
  let worstObs: Worst = { ratio: 0, where: '' };
  let worstAny: Worst = { ratio: 0, where: '' };
  let worstUpper: Worst = { ratio: 0, where: '' };
  const significant: string[] = [];
  const pointAbove: string[] = [];
  let cells = 0;
  const scopes: { name: string; values: Record<Stat, Float64Array> }[] = [
    { name: 'all hosts', values: all },
    ...classes.map((c) => ({ name: `class ${c}`, values: Object.fromEntries(STATS.map((s) => [s, concat(results.filter((r) => r.host.cls === c).map((r) => r[s]))])) as Record<Stat, Float64Array> })),
    ...results.map((r) => ({ name: `host ${r.host.name}`, values: { plain: r.plain, weighted: r.weighted, combined: r.combined } })),
  ];
  for (const sc of scopes)
    for (const s of STATS)
      for (const row of tailRows(sc.values[s], s)) {
        cells++;
        const ro = row.p / row.bound;
        const at = `${sc.name}, ${STAT_LABEL[s]}, z ${row.z}: ${row.k} of ${row.n.toLocaleString('en-US')}`;
        if (row.n * row.bound >= MIN_EXPECTED && ro > worstObs.ratio) worstObs = { ratio: ro, where: at };
        if (ro > worstAny.ratio) worstAny = { ratio: ro, where: `${at}; the bound predicts ${fmt(row.n * row.bound)}` };
        if (row.n * row.bound >= MIN_EXPECTED && row.upper / row.bound > worstUpper.ratio) worstUpper = { ratio: row.upper / row.bound, where: at };
        const lower = clopperPearsonLower(row.k, row.n);
        if (lower > row.bound) significant.push(`${at} = ${fmt(row.p)}, 95% interval [${fmt(lower)}, ${fmt(row.upper)}] above the bound ${fmt(row.bound)}`);
        else if (row.p > row.bound) pointAbove.push(`${at} = ${fmt(row.p)} > ${fmt(row.bound)}, 95% interval [${fmt(lower)}, ${fmt(row.upper)}] holds the bound (the bound predicts ${fmt(row.n * row.bound)} exceedances)`);
      }
  const fwRowsOf = (ps: number[]) =>
    [0.1, 0.01, 1e-3].map((t) => {
      const k = ps.filter((p) => p <= t).length;
      const lo = clopperPearsonLower(k, ps.length);
      return [String(t), `${k} / ${ps.length.toLocaleString('en-US')}`, fmt(k / Math.max(1, ps.length)), `[${fmt(lo)}, ${fmt(clopperPearsonUpper(k, ps.length))}]`, lo <= t ? 'yes' : '**no**'];
    });
  const fwP = fw.flatMap((f) => f.pValues);
  const fwPlaced = fw.filter((f) => f.hypotheses > 0);
  const fwPP = fwPlaced.flatMap((f) => f.pValues);
  const fwRows = fwRowsOf(fwP);
  const fwRowsPlaced = fwRowsOf(fwPP);
  L.push('# Tail validation of mark v2 p-values (issue 13 item 4)');
  L.push('');
  L.push(meta.provenance);
  const dirty = meta.dirty;
  if (dirty) L.push(`Working tree of lib/ differed from that commit (the code measured): ${dirty.split('\n').map((l) => `\`${l.trim()}\``).join(', ')}.`);
  const args = meta.args;
  L.push(`Command: \`npm run bench:tail${args ? ` -- ${args}` : ''}\` (benchmarks/tail.ts), wall ${(wallSec / 60).toFixed(1)} min under \`nice -n 19\`. Key: fixed (sha256 of a label), profile v2.`);
  L.push('');
  L.push('## Summary');
  L.push('');
  L.push(`- Trials: ${N.toLocaleString('en-US')} decoy-token statistics (each trial a fresh decoy token, never embedded, at one place) on ${results.length} stress hosts in ${classes.length} classes, each trial giving the plain, the key-weighted and the reported (max) statistic.`);
  L.push(`- Observed tail against the bound (z = ${Z_REPORT.join(', ')}; bound signSumTail(z) = min(exp(-z^2/2), c* Q(z)) for plain and weighted, 2 x that for their maximum; ${cells} cells: every host, every class and all hosts, three statistics, each z): largest ratio observed / bound where the data reach the bound (it predicts >= ${MIN_EXPECTED} exceedances) **${fmt(worstObs.ratio)}** (${worstObs.where}); there, the largest ratio of the 95% Clopper-Pearson upper end to the bound ${fmt(worstUpper.ratio)} (${worstUpper.where}). Over every cell, sparse ones included: ${fmt(worstAny.ratio)} (${worstAny.where}).`);
  L.push(
    significant.length
      ? `- **The observed tail exceeded the bound significantly** (the bound below the 95% interval) in ${significant.length} cells:\n${significant.map((e) => `  - ${e}`).join('\n')}`
      : `- No cell's 95% interval lies above the bound: the observed tail is nowhere significantly heavier than the bound.`,
  );
  L.push(pointAbove.length ? `- Cells whose point estimate lies above the bound while the interval holds it (few events where the bound predicts few; expected among ${cells} cells by chance):\n${pointAbove.map((e) => `  - ${e}`).join('\n')}` : '- No cell\'s point estimate lies above the bound.');
  for (const s of STATS) {
    const f = floors[s];
    L.push(`- Validated floor, ${STAT_LABEL[s]}: per-statistic tail **${fmt(f.floor)}** (z ${f.z.toFixed(2)}): down to there the 95% upper end of the observed tail stays at or below the bound at every z (step 0.01)${f.brokenAt !== undefined ? `; at z ${f.brokenAt.toFixed(2)} (${f.countThere} of ${N.toLocaleString('en-US')} trials at or beyond it, 95% upper end ${fmt(clopperPearsonUpper(f.countThere, N))}) the trials no longer resolve the bound ${fmt(boundOf(s)(f.brokenAt))} (with none beyond, the upper end is 3.69 / n = ${fmt(3.69 / N)})` : ''}.`);
  }
  const binding = floors.plain.floor >= floors.weighted.floor ? floors.plain : floors.weighted;
  L.push(
    `- What that means for a report: a leg's p-value is min(1, H x signSumTail(z)) with H = legs x places x 2 and z the larger of the plain and the weighted statistic, so the per-statistic tail signSumTail(z) must be validated for both: the trials support it down to the larger of the two floors, **${fmt(binding.floor)}** (z ${binding.z.toFixed(2)}). A p-value below H x ${fmt(binding.floor)} rests on the bound alone (Hoeffding / Bentkus-Dzindzalieta, conditional on the host, the key's pseudo-randomness the only assumption), not on these data: print it as "< H x ${fmt(binding.floor)}", naming the bound. (lib/mark/stats.ts VALIDATED_TAIL = ${fmt(VALIDATED_TAIL)} ${VALIDATED_TAIL >= binding.floor ? 'is at or above this floor: consistent with these trials' : '**is below this floor: the trials do not support it**'}.) validatedFloor() in this file computes the floor from trials.`,
  );
  const fwOk = [...fwRows, ...fwRowsPlaced].every((r) => r[4] === 'yes');
  L.push(`- Family-wise check through \`detect()\`: ${fw.length} scans, ${fwP.length.toLocaleString('en-US')} candidate p-values of never-embedded tokens, ${fwPP.length.toLocaleString('en-US')} of them from the ${fwPlaced.length} scans where the key layer proposed places (elsewhere every p is 1); there, fraction <= t: ${fwRowsPlaced.map((r) => `t = ${r[0]}: ${r[2]} (${r[1]}, 95% interval ${r[3]})`).join('; ')}. ${fwOk ? 'Every fraction is <= t (and every interval reaches below t).' : '**A fraction exceeded t beyond its interval.**'} Smallest p-value ${fmt(minOf(fwP))}; largest candidate statistic ${fmt(maxOf(fw.map((f) => f.maxScore)))} against hypotheses per scan up to ${fmt(maxOf(fw.map((f) => f.hypotheses)))}.`);
  const checked = results.filter((r) => r.check);
  const placesOk = checked.filter((r) => r.check!.detectorPlaces === r.check!.places).length;
  const scoreOk = checked.filter((r) => Math.abs(r.check!.detectorScore - r.check!.score) <= 1e-9 * Math.max(1, Math.abs(r.check!.score))).length;
  L.push(`- The places are the detector's: on ${placesOk} of ${checked.length} hosts scanned whole, detect() with one token counted hypotheses = 2 x the places this benchmark enumerated, and on ${scoreOk} of ${checked.length} its score for that token equals this benchmark's maximum of the token's statistic over them. max(plain, weighted) differed from the detector's reported statistic in ${results.reduce((a, r) => a + r.mismatches, 0)} trials.`);
  L.push('');
  L.push('## Method');
  L.push('');
  L.push('- Hosts (16 kHz mono, generated each run, never stored): a 1.024 s white-noise burst under a decaying envelope repeated exactly; two-bar drum and tonal loops (kick, snare, hi-hat, sawtooth bass, chord pad) repeated sample-exactly at 117, 120 and 123 BPM; ringback 425 Hz 1 s on / 4 s off and the US 440 + 480 Hz 2 s on / 4 s off; DTMF digit sequences (70-200 ms tones, 60-300 ms gaps); TPDF dither at -90 dBFS RMS and digital silence quantized to 16 bits with TPDF dither (values -1, 0, +1 LSB); the fixture voices (fixtures/speech, benchmarks/meeting.ts voiceLoop) gained +30 dB and hard-clipped; the same speech unclipped; a 2-hour loop of it. "+v2": marked with mark v2 (Embedder, PROFILE_V2) for one real leg (never a candidate or decoy here) before any clipping; "+aac64": then through AAC 64k (lib/channel applyChain).');
  L.push(`- Places: the key-layer search of detect/search-span.ts with the key layer as its one candidate, then every window's proposals, the key layer's top blocks per proposal (16 at level 0, 4 below) and every key-layer cycle within the reach -- span-v2.ts step 2, with its own helpers (topBlocks, proposalsOf, imported); where the key layer proposed fewer than ${MIN_PLACES} places (unmarked hosts), level-0 windows at rate 1, the coarse chip phases and random session chips fill up to ${MIN_PLACES}. The 2-hour clip: ${LONG_PIECES} of its pieces (256 s, as detect() cuts it, searched at alpha / pieces), spread over its length.`);
  L.push(`- Trials: at each place, ceil(${TRIALS_PER_HOST.toLocaleString('en-US')} / places) fresh decoy tokens (DecoyRef indices from 1,000,000 up, one per trial; the detector's own decoys use 0-127) scored with prepareLegPlace / keyWeights / legStatistic from lib/mark/detect/leg-statistic.ts. Plain and weighted are read through legStatistic itself: all block weights 1 make the weighted sum equal the plain one (the call returns the signed plain Z), and q = 0 zeroes the plain one (the call returns max(0, weighted)); both tails at z >= 1 are exact. Trials are independent given the host (distinct tokens: independent PRF streams); the interval is the two-sided 95% Clopper-Pearson interval of the pooled count (trials at different places are not identically distributed; the pooled count's variance is then at most the binomial one, so the interval stays conservative).`);
  L.push('- Validated floor: the smallest bound level b(z*) such that at every z <= z* (step 0.01 from z = 1) the interval\'s upper end is at most b(z). Below it nothing is validated empirically.');
  L.push('- Family-wise: detect(clip, { key, candidates, profile: PROFILE_V2 }) with 64 candidate tokens never embedded, on clips of 10, 30 and 64 s cut at random from each host' + (FW_LONG ? ', and the 2-hour clip scanned whole (in pieces, as detect() does)' : '') + '; every candidate\'s reported p-value counts.');
  L.push('');
  for (const s of STATS) {
    L.push(`## Tail of the ${STAT_LABEL[s]}, all hosts`);
    L.push('');
    L.push(`Bound: ${s === 'combined' ? '2 x signSumTail(z) (the maximum of two statistics each bounded by signSumTail)' : 'signSumTail(z)'}; normal: ${s === 'combined' ? '2 Q(z)' : 'Q(z)'}.`);
    L.push('');
    L.push(
      markdownTable(
        ['z', 'trials', 'Z >= z', 'observed', '95% upper', 'bound', 'observed / bound', 'upper / bound', 'normal', 'observed / normal'],
        tailRows(all[s], s).map((r) => [r.z, r.n.toLocaleString('en-US'), r.k, fmt(r.p), fmt(r.upper), fmt(r.bound), fmt(r.p / r.bound), fmt(r.upper / r.bound), fmt(r.q), r.k ? fmt(r.p / r.q) : '0']),
      ),
    );
    L.push('');
  }
  for (const s of STATS) {
    L.push(`## Per host class: ${STAT_LABEL[s]} (observed P(Z >= z) / 95% upper / ratio observed to bound)`);
    L.push('');
    const rows = classes.map((c) => {
      const v = concat(results.filter((r) => r.host.cls === c).map((r) => r[s]));
      const f = validatedFloor(v, boundOf(s));
      return [c, v.length.toLocaleString('en-US'), ...tailRows(v, s).map((r) => `${fmt(r.p)} / ${fmt(r.upper)} / ${fmt(r.p / r.bound)}`), fmt(f.floor)];
    });
    L.push(markdownTable(['class', 'trials', ...Z_REPORT.map((z) => `z ${z}`), 'validated floor'], rows));
    L.push('');
  }
  // The extreme tail, beyond the z grid: the r-th largest of N values against the count the bound allows there.
  for (const s of ['plain', 'weighted'] as const) {
    const items: { z: number; r: HostTrials; i: number }[] = [];
    for (const r of results) for (let i = 0; i < r.n; i++) if (r[s][i]! >= 4) items.push({ z: r[s][i]!, r, i });
    items.sort((a, b) => b.z - a.z);
    L.push(`## Largest ${STAT_LABEL[s]} values of all ${N.toLocaleString('en-US')} trials`);
    L.push('');
    L.push(`The r-th largest value z_r against N x signSumTail(z_r), the number of values at or above z_r the bound allows in expectation (a tail heavier than the bound would show as ranks well above it), and N x Q(z_r) for the normal approximation. n_eff: effective tiles of the ${s === 'plain' ? 'plain' : 'weighted'} statistic at the place.`);
    L.push('');
    L.push(
      markdownTable(
        ['rank r', 'z_r', 'N x bound', 'N x Q', 'host', 'place (window, level, source)', 'n_eff'],
        items.slice(0, 12).map((x, k) => {
          const pi = x.r.placeInfo[x.r.placeOf[x.i]!]!;
          return [k + 1, x.z.toFixed(3), fmt(N * signSumTail(x.z)), fmt(N * normalTail(x.z)), x.r.host.name, `${pi.windowSec.toFixed(0)} s, ${pi.level}, ${pi.source}`, fmt(s === 'plain' ? pi.nEff : pi.nEffW)];
        }),
      ),
    );
    L.push('');
  }
  // Where a heavier-than-normal tail would come from: few effective tiles (lattice-like sums).
  L.push('## Tail by effective number of tiles at the place');
  L.push('');
  L.push('n_eff = (sum c^2)^2 / sum c^4 of the statistic\'s coefficients c (plain: x; weighted: x times its block\'s key weight). A sum of few comparable signs is lattice-like: its tail can exceed the normal one (up to c* ~ 3.18 x Q, which the bound allows), never the bound.');
  L.push('');
  const buckets: [number, number][] = [
    [0, 30],
    [30, 100],
    [100, 300],
    [300, 1000],
    [1000, Infinity],
  ];
  const bucketRows: (string | number)[][] = [];
  for (const s of ['plain', 'weighted'] as const)
    for (const [lo, hi] of buckets) {
      const parts: number[] = [];
      for (const r of results)
        for (let i = 0; i < r.n; i++) {
          const pi = r.placeInfo[r.placeOf[i]!]!;
          const ne = s === 'plain' ? pi.nEff : pi.nEffW;
          if (ne >= lo && ne < hi) parts.push(r[s][i]!);
        }
      if (!parts.length) continue;
      const v = Float64Array.from(parts);
      const rows = tailRows(v, s);
      const at = (z: number) => rows.find((x) => x.z === z)!;
      bucketRows.push([STAT_LABEL[s], `${lo}-${hi === Infinity ? '' : hi}`, v.length.toLocaleString('en-US'), ...[3, 3.5, 4].map((z) => `${at(z).k} (${fmt(at(z).p / at(z).q)} x Q, ${fmt(at(z).p / at(z).bound)} x bound)`), fmt(maxOf(parts))]);
    }
  L.push(markdownTable(['statistic', 'n_eff', 'trials', 'Z >= 3', 'Z >= 3.5', 'Z >= 4', 'max'], bucketRows));
  L.push('');
  L.push('## Per host');
  L.push('');
  L.push(
    markdownTable(
      ['host', 'class', 'channel', 'places (proposal + grid)', 'empty places', 'n_eff median (min)', 'n_eff weighted median (min)', 'trials', 'rms plain', 'max plain', 'max weighted', 'plain >= 3', 'plain >= 4', 'weighted >= 4', `worst observed / bound (bound predicts >= ${MIN_EXPECTED})`, 'detect() places / check score', 'time (s)'],
      results.map((r) => {
        let worst = 0;
        for (const s of STATS) for (const row of tailRows(r[s], s)) if (row.n * row.bound >= MIN_EXPECTED) worst = Math.max(worst, row.p / row.bound);
        const c = r.check;
        const rmsP = Math.sqrt(r.plain.reduce((a, v) => a + v * v, 0) / Math.max(1, r.n));
        return [
          r.host.name,
          r.host.cls,
          r.host.channel,
          `${r.places.proposal} + ${r.places.grid}`,
          r.emptyPlaces,
          `${fmt(median(r.nEff))} (${fmt(minOf(r.nEff))})`,
          `${fmt(median(r.placeInfo.map((x) => x.nEffW)))} (${fmt(minOf(r.placeInfo.map((x) => x.nEffW)))})`,
          r.n.toLocaleString('en-US'),
          fmt(rmsP),
          fmt(maxOf(r.plain)),
          fmt(maxOf(r.weighted)),
          countAtLeast(r.plain, 3),
          countAtLeast(r.plain, 4),
          countAtLeast(r.weighted, 4),
          fmt(worst),
          c ? `${c.detectorPlaces === c.places ? 'same' : `${c.detectorPlaces} vs ${c.places}`} / ${Math.abs(c.detectorScore - c.score) <= 1e-9 * Math.max(1, Math.abs(c.score)) ? 'same' : `${fmt(c.detectorScore, 6)} vs ${fmt(c.score, 6)}`}` : 'pieces (not compared)',
          r.seconds.toFixed(0),
        ];
      }),
    ),
  );
  L.push('');
  L.push('n_eff = (sum x^2)^2 / sum x^4 per place: the effective number of tiles (a few dominant tiles make the sign sum lattice-like, the case the Bentkus-Dzindzalieta constant c* ~ 3.18 is there for). rms plain: 1 in expectation under the model (E Z^2 = 1 exactly for a self-normalized sum of independent fair signs).');
  L.push('');
  L.push('## Family-wise check through detect()');
  L.push('');
  L.push('Scans where the key layer proposed places (the candidates were tested):');
  L.push('');
  L.push(markdownTable(['t', 'p <= t', 'fraction', '95% interval', 'consistent with <= t'], fwRowsPlaced));
  L.push('');
  L.push('All scans:');
  L.push('');
  L.push(markdownTable(['t', 'p <= t', 'fraction', '95% interval', 'consistent with <= t'], fwRows));
  L.push('');
  const byHost = [...new Set(fw.map((f) => f.host))].map((h) => {
    const fs = fw.filter((f) => f.host === h);
    const ps = fs.flatMap((f) => f.pValues);
    return [
      h,
      fs.length,
      fs.map((f) => f.clipSec.toFixed(0)).join(', '),
      ps.length,
      fmt(minOf(ps)),
      fmt(maxOf(fs.map((f) => f.maxScore))),
      `${fmt(minOf(fs.map((f) => f.hypotheses)))}-${fmt(maxOf(fs.map((f) => f.hypotheses)))}`,
      fs.filter((f) => f.hypotheses === 0).length,
      fmt(maxOf(fs.map((f) => f.decoyLegs?.max ?? 0))),
      fmt(fs.reduce((a, f) => a + f.seconds, 0) / fs.length),
    ];
  });
  L.push(markdownTable(['host', 'scans', 'clip lengths (s)', 'p-values', 'min p', 'max z', 'hypotheses per scan', 'scans with no place', "detector's decoy legs: max z", 'mean scan time (s)'], byHost));
  L.push('');
  L.push('A scan with no place (hypotheses 0: the key layer proposed nothing, as on unmarked audio) reports p = 1 for every candidate; the check has teeth on the marked hosts, where the key layer proposes places and every candidate is tested at each.');
  L.push('');
  return L.join('\n');
}

// Run when executed (importing this file for validatedFloor or the intervals runs nothing).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--report-only')) {
    const { results, fw, meta } = loadRaw();
    writeResult('tail-validation.md', report(results, fw, meta));
    console.log(`rewrote benchmarks/results/tail-validation.md from ${RAW_PATH}`);
  } else await main();
}
