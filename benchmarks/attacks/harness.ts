/**
 * Generic harness of the attack suite: the scenario (key, registry, leg A), the mark under test
 * behind a small interface (embed / scan / payload), the adversary's material (a leg's downlink
 * as received, generated chunk by chunk for recordings up to hours), codec chains, scoring,
 * distortion (SNR) measurement and report helpers.
 *
 * Nothing here knows the mark's structure: attacks and their structural knowledge live in the
 * per-mark modules (benchmarks/attacks/v1/). To point the suite at another mark, give it another
 * MarkSystem (and that mark's attack modules).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embedder, applyChain, decodePayload, detect, keyFromBytes, loadTrainingVoices, loadVoices, payloadId, resample, VOICES } from './earmark.js';
import type { MarkKey } from './earmark.js';

export const RATE = 16000;

// ---------------------------------------------------------------------------------------------
// The mark under test

export interface ScanScore {
  token: string;
  /** The detector's statistic for this candidate (z units). */
  z: number;
  pValue: number;
}

export interface ScanResult {
  /** Tokens the scanner names (attributed at its significance level). */
  named: string[];
  /** Every candidate's score. */
  scores: ScanScore[];
  /** Per named token: the session time the scanner places the clip's start at (its best segment). */
  offsets?: Map<string, number>;
  /** Marks with a key-level layer (v2): that layer's statistic and p-value (names no leg). */
  keyLayer?: { score: number; pValue: number };
  /** Marks whose detector flags copied or forged marks (v2): the detector's verdict. */
  forgery?: { suspected: boolean; reason: string };
  /** Marks whose detector has a slower fallback search (v2's exhaustive search over the legs' spans): its compute seconds when it ran. */
  fallbackSec?: number;
  /** Marks whose detector checks content against the registry's reference: legs whose mark was found but whose content disagreed (not named). */
  contentRejected?: { token: string; z: number; agreement: number }[];
  /** Named legs' content agreement, where the detector checked content. */
  namedContent?: Map<string, number>;
}

export interface PayloadRead {
  /** Decoded id when the check code was valid, else null. */
  id: string | null;
  crcOk: boolean;
  pilotZ: number;
}

/** What the harness needs of a mark: embed with the organisation's key, scan, read the blind payload. */
export interface MarkSystem {
  readonly name: string;
  /** A streaming embedder (mono, RATE): process() returns what is final so far, flush() the rest. */
  embedder(token: string, offsetSec: number): { process(x: Float32Array): Float32Array; flush(): Float32Array };
  embed(x: Float32Array, token: string, offsetSec: number): Float32Array;
  scan(clip: Float32Array, candidates: readonly string[]): ScanResult;
  payload?(clip: Float32Array): PayloadRead;
  /** The payload id the mark gives a token (for scoring the blind payload). */
  payloadIdOf?(token: string): string;
  /** Work the system needs before its first scan (e.g. building what its registry holds). */
  prepare?(): Promise<void>;
  /** Tag of the embedder's current behaviour, part of the material cache's file names (a mark whose library changes under the suite gets fresh material). */
  cacheTag?(): string;
}

/** Mark v1 (PROFILE_V1) with a key, through earmark's own embedder and scanner. */
export function markV1(key: MarkKey): MarkSystem {
  return {
    name: 'v1',
    embedder(token, offsetSec) {
      const e = new Embedder({ key, token, offsetSec, sampleRate: RATE, channels: 1 });
      return { process: (x) => e.process([x])[0]!, flush: () => e.flush()[0]! };
    },
    embed(x, token, offsetSec) {
      const e = this.embedder(token, offsetSec);
      return concat([e.process(x), e.flush()]);
    },
    scan(clip, candidates) {
      const r = detect({ samples: clip, sampleRate: RATE }, { key, candidates });
      const offsets = new Map<string, number>();
      for (const l of r.legs) {
        const sg = [...l.segments].sort((a, b) => a.pValue - b.pValue)[0];
        if (sg) offsets.set(l.token, sg.sessionOffsetSec - sg.startSec * l.speed);
      }
      return { named: r.legs.map((l) => l.token), scores: r.scores.map((s) => ({ token: s.token, z: s.score, pValue: s.pValue })), offsets };
    },
    payload(clip) {
      const r = decodePayload(clip, RATE, key);
      return { id: r.payloadId, crcOk: r.crcOk, pilotZ: r.pilotZ };
    },
    payloadIdOf: (token) => payloadId(key, token),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario

export const SCENARIO = {
  /** The organisation's key: 32 bytes of 7 (the adversary never sees it). */
  keyBytes: new Uint8Array(32).fill(7),
  legA: 'leg-A',
  /** Session time of the first sample of leg A's material (s): arbitrary, not on a chip boundary. */
  offsetSec: 1234.5678,
};

export function scenarioKey(): MarkKey {
  return keyFromBytes(SCENARIO.keyBytes);
}

/** The 64 registered tokens: leg-A, leg-B, leg-C (the colluders) and 61 others. */
export function registry(): string[] {
  return ['leg-A', 'leg-B', 'leg-C', ...Array.from({ length: 61 }, (_, i) => `leg-${(i + 4).toString().padStart(2, '0')}`)];
}

// ---------------------------------------------------------------------------------------------
// Voices

let voiceCache: Map<string, Float32Array> | undefined;
let targetCache: Map<string, Float32Array> | undefined;

/** The fixture voices leg A's downlink is made of (benchmarks/meeting.ts voiceLoop order). */
export async function materialVoices(): Promise<Map<string, Float32Array>> {
  voiceCache ??= await loadVoices();
  return voiceCache;
}

/** Voices leg A never carried (framing targets): the detector-training voices (models/speech). */
export async function targetVoices(): Promise<Map<string, Float32Array>> {
  targetCache ??= await loadTrainingVoices();
  return targetCache;
}

/** Samples [from, from + n) of voiceLoop(voices, ∞): the fixture voices in VOICES order, repeated (same content as benchmarks/meeting.ts voiceLoop). */
export function loopSlice(voices: Map<string, Float32Array>, from: number, n: number): Float32Array {
  const lens = VOICES.map((v) => voices.get(v)!.length);
  const cycle = lens.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n);
  let pos = from % cycle;
  let v = 0;
  while (pos >= lens[v]!) pos -= lens[v++]!;
  for (let i = 0; i < n; ) {
    const src = voices.get(VOICES[v]!)!;
    const take = Math.min(src.length - pos, n - i);
    out.set(src.subarray(pos, pos + take), i);
    i += take;
    pos = 0;
    v = (v + 1) % VOICES.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Codecs

/** Run a codec chain (lib/channel spec, e.g. 'aac:64', 'opus:24', 'amrnb:12.2,aac:96'; '' = none); result at RATE. */
export async function codec(x: Float32Array, chain: string, seed = 0): Promise<Float32Array> {
  if (chain === '' || chain === 'clean') return x;
  const out = await applyChain({ channels: [x], sampleRate: RATE }, chain, { seed });
  const y = out.channels[0]!;
  const z = out.sampleRate === RATE ? y : resample(y, out.sampleRate, RATE);
  // Keep the input's length (codec delay is compensated by lib/channel; rounding may differ by a sample).
  if (z.length === x.length) return z;
  const r = new Float32Array(x.length);
  r.set(z.subarray(0, Math.min(z.length, x.length)));
  return r;
}

// ---------------------------------------------------------------------------------------------
// Material: a leg's downlink as received, in chunks

export interface MaterialSpec {
  mark: MarkSystem;
  token: string;
  /** Codec chain of the downlink as the adversary receives it. */
  chain: string;
  seconds: number;
  offsetSec: number;
  /** Content: 'loop' = the fixture voices (voiceLoop) from sample `contentFrom`. */
  contentFrom?: number;
  /** Chunk length (s), a multiple of 8 ms. Default 300. */
  chunkSec?: number;
}

export interface Chunk {
  /** Index of the chunk's first sample in the material. */
  start: number;
  audio: Float32Array;
}

export const CACHE_DIR = process.env['EARMARK_ATTACK_CACHE'] ?? join(tmpdir(), 'earmark-attacks-cache');

function cachePath(spec: MaterialSpec, i: number, len: number): string {
  const tag = `${spec.mark.name}${spec.mark.cacheTag ? `-${spec.mark.cacheTag()}` : ''}-${spec.token}-${spec.chain.replace(/[^a-z0-9.]+/gi, '_')}-${spec.offsetSec}-${spec.contentFrom ?? 0}-${spec.chunkSec ?? 300}-${i}-${len}`;
  return join(CACHE_DIR, `${tag}.f32`);
}

/**
 * The material chunk by chunk: fixture speech marked by the streaming embedder (one continuous
 * session, so the mark has no seams), each chunk then encoded by the chain (seed = chunk index).
 * Chunks are cached on disk (EARMARK_ATTACK_CACHE, default the OS temp dir): they are deterministic.
 * The last chunk may be shorter.
 */
export async function* material(spec: MaterialSpec): AsyncGenerator<Chunk> {
  const chunk = Math.round((spec.chunkSec ?? 300) * RATE);
  const total = Math.round(spec.seconds * RATE);
  const n = Math.ceil(total / chunk);
  mkdirSync(CACHE_DIR, { recursive: true });
  const voices = await materialVoices();
  let stream: MarkedStream | undefined;
  for (let i = 0; i < n; i++) {
    const start = i * chunk;
    const len = Math.min(chunk, total - start);
    const p = cachePath(spec, i, len);
    if (existsSync(p)) {
      const b = readFileSync(p);
      yield { start, audio: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice() };
      continue;
    }
    stream ??= new MarkedStream(spec.mark.embedder(spec.token, spec.offsetSec), (from, m) => loopSlice(voices, (spec.contentFrom ?? 0) + from, m), total);
    const marked = stream.read(start, len);
    const rx = await codec(marked, spec.chain, i);
    writeFileSync(p, Buffer.from(rx.buffer, rx.byteOffset, rx.byteLength));
    yield { start, audio: rx };
  }
}

/** A streaming embedder over a content source, read forward in ranges. */
class MarkedStream {
  #fed = 0;
  #buf = new Float32Array(0);
  /** Absolute index of #buf[0]. */
  #pos = 0;
  constructor(
    readonly emb: { process(x: Float32Array): Float32Array; flush(): Float32Array },
    readonly content: (from: number, n: number) => Float32Array,
    readonly total: number,
  ) {}

  read(start: number, len: number): Float32Array {
    if (start < this.#pos) throw new Error('MarkedStream reads forward only');
    const parts: Float32Array[] = [this.#buf];
    let have = this.#buf.length;
    const block = 16 * RATE;
    while (this.#pos + have < start + len) {
      let out: Float32Array;
      if (this.#fed >= this.total) out = this.emb.flush();
      else {
        const m = Math.min(block, this.total - this.#fed);
        out = this.emb.process(this.content(this.#fed, m));
        this.#fed += m;
      }
      if (out.length === 0 && this.#fed >= this.total) break;
      parts.push(out);
      have += out.length;
      // Drop what lies before `start` as we go (keeps memory bounded on long skips).
      if (parts.length > 8) {
        const all = concat(parts);
        const drop = Math.max(0, Math.min(all.length, start - this.#pos));
        parts.length = 0;
        parts.push(all.subarray(drop));
        this.#pos += drop;
        have = all.length - drop;
      }
    }
    const all = concat(parts);
    const off = start - this.#pos;
    const res = all.slice(off, off + len);
    this.#buf = all.slice(off + len);
    this.#pos = start + len;
    return res;
  }
}

/** Samples [from, from + n) of the material (through the chunk cache). */
export async function materialSlice(spec: MaterialSpec, from: number, n: number): Promise<Float32Array> {
  const out = new Float32Array(n);
  for await (const c of material(spec)) {
    const a = Math.max(from, c.start);
    const b = Math.min(from + n, c.start + c.audio.length);
    if (b > a) out.set(c.audio.subarray(a - c.start, b - c.start), a - from);
    if (c.start + c.audio.length >= from + n) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Measurements

/** SNR (dB) of a change: energy of `ref` over energy of (out - ref). */
export function snrDb(ref: Float32Array, out: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! * ref[i]!;
    const d = out[i]! - ref[i]!;
    e += d * d;
  }
  return 10 * Math.log10(s / Math.max(e, 1e-30));
}

export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** The copies' sample-wise mean (collusion by averaging; every copy as long as the first). */
export function average(cs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(cs[0]!.length);
  for (const c of cs) for (let i = 0; i < out.length; i++) out[i]! += c[i]! / cs.length;
  return out;
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Seeded PRNG (mulberry32), for clip placement. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Scoring a clip

export interface ClipOutcome {
  /** Whether the scanner names `token`. */
  named: boolean;
  /** The scanner's z and p for `token`. */
  z: number;
  p: number;
  /** Other tokens the scanner named. */
  others: string[];
}

export function outcome(scan: ScanResult, token: string): ClipOutcome {
  const s = scan.scores.find((x) => x.token === token);
  return { named: scan.named.includes(token), z: s?.z ?? 0, p: s?.pValue ?? 1, others: scan.named.filter((t) => t !== token) };
}

/** Summary of outcomes: named / total, z median and range, smallest p. */
export function summarize(os: readonly ClipOutcome[]): { named: number; total: number; zMed: number; zMin: number; zMax: number; pMin: number; falseOthers: number } {
  const zs = os.map((o) => o.z);
  return {
    named: os.filter((o) => o.named).length,
    total: os.length,
    zMed: median(zs),
    zMin: Math.min(...zs),
    zMax: Math.max(...zs),
    pMin: Math.min(...os.map((o) => o.p)),
    falseOthers: os.reduce((a, o) => a + o.others.length, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const fmt = (v: string | number): string => (typeof v === 'number' ? fmtNum(v) : v);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`)].join('\n');
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(1);
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function provenance(): { date: string; commit: string; machine: string; node: string } {
  // ATTACK_COMMIT: set when running against an export of lib/ at a commit outside a git checkout.
  const env = process.env['ATTACK_COMMIT'];
  const c0 = cpus();
  if (env) return { date: new Date().toISOString(), commit: `${env} (clean export of lib/)`, machine: `${c0.length} x ${c0[0]?.model ?? 'cpu'}`, node: process.version };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  let dirty = '';
  try {
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { encoding: 'utf8' }).trim() ? ' (lib/ has uncommitted changes)' : '';
  } catch {
    // ignore
  }
  const c = cpus();
  return { date: new Date().toISOString(), commit: commit + dirty, machine: `${c.length} x ${c[0]?.model ?? 'cpu'}`, node: process.version };
}

/**
 * Write one section of a markdown report, keeping the others: sections are delimited by
 * `<!-- section:NAME -->` ... `<!-- /section:NAME -->` and kept in `order`; the first line
 * (provenance) is rewritten.
 */
export function writeSection(path: string, header: string, order: readonly string[], name: string, body: string): void {
  const sections = new Map<string, string>();
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/<!-- section:([\w-]+) -->\n([\s\S]*?)<!-- \/section:\1 -->/g)) sections.set(m[1]!, m[2]!);
  }
  sections.set(name, body.endsWith('\n') ? body : body + '\n');
  const parts = [header.trimEnd(), ''];
  for (const n of [...order, ...[...sections.keys()].filter((k) => !order.includes(k))]) {
    const s = sections.get(n);
    if (s !== undefined) parts.push(`<!-- section:${n} -->\n${s}<!-- /section:${n} -->`, '');
  }
  writeFileSync(path, parts.join('\n'));
}
