/**
 * Content reference: what a leg's downlink sounded like, recorded by the bridge beside the mark,
 * so that a scan can check that a clip carrying a leg's mark also carries that leg's content at
 * the session time the mark names.
 *
 * Why: a leg's v2 layer never repeats, so it can be estimated only from a recording of that leg
 * at that moment; but whoever holds such a recording can lift the mark and re-embed it in other
 * audio (the watermark copy attack: Kutter, Voloshynovskiy & Herrigel, SPIE 3971, 2000). The
 * host-hash binding (host-hash.ts) ties the leg layer to two band-group loudness contours, which a
 * forger can impose on other speech (benchmarks/results/attacks-v2.md, the contour attack). The
 * bridge, though, knows the content it sent. It keeps a compact keyed description of it; a clip
 * whose content disagrees with the description at the mark's session time is not that leg's
 * audio, whatever mark it carries, and no leg is named.
 *
 * The description, per frame k of the session grid (frame centre at session time k x 32 ms, 64 ms
 * Hann window, audio at 16 kHz): E(k, m) the log energy of 16 bands spaced logarithmically over
 * 300-3400 Hz (what a narrowband phone channel keeps), floored at 1e-3 x the frame's mean band
 * energy; the spectro-temporal double difference
 *   D(k, m) = [E(k, m) - E(k, m+1)] - [E(k-2, m) - E(k-2, m+1)],   m = 0..14,
 * which cancels any gain, equalisation or slow loudness envelope applied to the whole band or to
 * broad band groups (the fingerprint feature of Haitsma & Kalker, "A highly robust audio
 * fingerprinting system", ISMIR 2002, here over 64 ms); and 8 keyed projections
 *   b(k, j) = sign( sum_m r(j, m) D(k, m) ),   r(j, m) in {-1, +1} from the mark key,
 * one byte per frame, plus the frame's in-band level (dBFS, one signed byte). 2 hours: 450 kB.
 *
 * Why keyed: with published projections a forger holding the leg's recording could compute both
 * bit strings and flip only the disagreeing signs with small per-band gains; without the key he
 * must make the whole vector D of the forged audio follow the leg's, i.e. impose the leg's
 * 16-band spectral envelope every 32 ms, which is a channel vocoder of the leg's own speech.
 *
 * What the description reveals: 8 sign bits per 32 ms of keyed projections of spectral-slope
 * changes, and the loudness contour. It is not audio; it is kept with the same care as the
 * registry (who joined what, when).
 */
import { createHash } from 'node:crypto';
import { Resampler } from '../dsp/resample.js';
import { RealFft } from '../dsp/fft.js';
import { hann } from '../dsp/window.js';
import { KeyStream } from './keys.js';
import type { MarkKey } from './keys.js';

export const CONTENT_REF_FORMAT = 'earmark.content-ref';
export const CONTENT_REF_VERSION = 1;

/** Analysis rate (Hz), frame hop (32 ms) and window (64 ms) in samples at that rate. */
export const CR_RATE = 16000;
export const CR_HOP = 512;
export const CR_WINDOW = 1024;
/** Bands, their range (Hz), the double difference's lag (frames) and the bits per frame. */
export const CR_BANDS = 16;
export const CR_LO_HZ = 300;
export const CR_HI_HZ = 3400;
export const CR_LAG = 2;
export const CR_BITS = 8;
const FLOOR = 1e-3;
/** Level byte of a frame with no energy (dBFS). */
const SILENT_DB = -127;

/** The keyed signs r(j, m), j < CR_BITS, m < CR_BANDS - 1 (row-major). */
function projections(key: MarkKey): Int8Array {
  const n = CR_BITS * (CR_BANDS - 1);
  const bytes = new KeyStream(key.bytes, 'content-ref/v1').bytes(0, n);
  return Int8Array.from(bytes, (b) => ((b & 1) === 1 ? 1 : -1));
}

/** FFT bin ranges [lo, hi) of the bands at a frequency scale (clip frequency = session frequency x scale). */
function bandBins(scale: number): Int32Array {
  const out = new Int32Array(CR_BANDS + 1);
  const binHz = CR_RATE / CR_WINDOW;
  for (let m = 0; m <= CR_BANDS; m++) {
    const hz = CR_LO_HZ * Math.pow(CR_HI_HZ / CR_LO_HZ, m / CR_BANDS) * scale;
    out[m] = Math.max(1, Math.min(CR_WINDOW / 2, Math.round(hz / binHz)));
  }
  // Every band at least one bin wide.
  for (let m = 1; m <= CR_BANDS; m++) if (out[m]! <= out[m - 1]!) out[m] = out[m - 1]! + 1;
  return out;
}

/** Log band energies and in-band level of frames at given centres, one analysis shared by writer and scanner. */
class FrameAnalyser {
  readonly #fft = new RealFft(CR_WINDOW);
  readonly #win = hann(CR_WINDOW);
  readonly #frame = new Float64Array(CR_WINDOW);
  readonly #bins: Int32Array;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  /** A full-scale sine's energy through the window (sum w^2 / 2 x N/2 scaling of the FFT): the level's 0 dBFS. */
  readonly #fullScale: number;

  constructor(scale = 1) {
    this.#bins = bandBins(scale);
    this.#re = new Float64Array(this.#fft.bins);
    this.#im = new Float64Array(this.#fft.bins);
    let w2 = 0;
    for (let i = 0; i < CR_WINDOW; i++) w2 += this.#win[i]! * this.#win[i]!;
    this.#fullScale = (w2 * CR_WINDOW) / 4;
  }

  /**
   * Frame centred at sample `centre` of `x` (samples outside x count as zeros): log band
   * energies into `logE` (CR_BANDS) and the in-band level (dBFS) returned.
   */
  analyse(x: Float32Array, centre: number, logE: Float64Array): number {
    const start = centre - CR_WINDOW / 2;
    for (let i = 0; i < CR_WINDOW; i++) {
      const s = start + i;
      this.#frame[i] = s >= 0 && s < x.length ? x[s]! * this.#win[i]! : 0;
    }
    this.#fft.forward(this.#frame, this.#re, this.#im);
    let total = 0;
    const bins = this.#bins;
    for (let m = 0; m < CR_BANDS; m++) {
      let e = 0;
      for (let b = bins[m]!; b < bins[m + 1]!; b++) e += this.#re[b]! * this.#re[b]! + this.#im[b]! * this.#im[b]!;
      logE[m] = e;
      total += e;
    }
    const floor = (FLOOR * total) / CR_BANDS + 1e-30;
    for (let m = 0; m < CR_BANDS; m++) logE[m] = Math.log(logE[m]! + floor);
    return total > 0 ? Math.max(SILENT_DB, Math.min(0, Math.round(10 * Math.log10(total / this.#fullScale)))) : SILENT_DB;
  }
}

/** The 8 keyed projections of D between two frames' log energies (now, CR_LAG frames before). */
function project(r: Int8Array, now: Float64Array, before: Float64Array, out: Float64Array): void {
  for (let j = 0; j < CR_BITS; j++) {
    let s = 0;
    for (let m = 0; m < CR_BANDS - 1; m++) s += r[j * (CR_BANDS - 1) + m]! * (now[m]! - now[m + 1]! - (before[m]! - before[m + 1]!));
    out[j] = s;
  }
}

/** A leg's content reference: frames firstFrame .. firstFrame + bits.length - 1 of the session grid. */
export interface ContentReference {
  readonly version: number;
  readonly keyId: string;
  readonly token: string;
  /** Session frame index of bits[0] (frame k is centred at session time k x CR_HOP / CR_RATE s). */
  readonly firstFrame: number;
  /** CR_BITS sign bits per frame (bit j = 1: projection j positive). */
  readonly bits: Uint8Array;
  /** The frame's in-band level (dBFS, -127 = silent). */
  readonly level: Int8Array;
}

/** Session time (s) of a frame's centre. */
export const frameTimeSec = (k: number): number => (k * CR_HOP) / CR_RATE;

/**
 * Streaming writer, run beside the embedder on the audio the bridge sends a leg (any rate, mono
 * mix of the channels): push blocks, then finish(). Frames whose window or lagged frame falls
 * before the first sample are not described.
 */
export class ContentReferenceWriter {
  readonly #r: Int8Array;
  readonly #key: MarkKey;
  readonly #token: string;
  readonly #resampler: Resampler | null;
  readonly #an = new FrameAnalyser();
  /** Session sample (at CR_RATE) of the stream's first sample. */
  readonly #origin: number;
  #buf = new Float32Array(0);
  /** Stream sample index (CR_RATE) of #buf[0]. */
  #bufStart = 0;
  #received = 0;
  #next: number;
  readonly #first: number;
  #bits: number[] = [];
  #level: number[] = [];
  #history: Float64Array[] = [];
  #finished = false;
  /** Input samples pushed so far (for error messages). */
  #pushed = 0;

  constructor(opts: { key: MarkKey; token: string; sampleRate: number; offsetSec: number }) {
    if (!(opts.sampleRate >= 4000 && opts.sampleRate <= 384000)) throw new RangeError(`content reference: sample rate ${opts.sampleRate} Hz is outside 4-384 kHz`);
    if (!Number.isFinite(opts.offsetSec) || opts.offsetSec < 0) throw new RangeError(`content reference: session offset must be a finite number >= 0, got ${opts.offsetSec}`);
    this.#key = opts.key;
    this.#token = opts.token;
    this.#r = projections(opts.key);
    this.#resampler = opts.sampleRate === CR_RATE ? null : new Resampler(opts.sampleRate, CR_RATE);
    this.#origin = Math.round(opts.offsetSec * CR_RATE);
    // First frame whose lagged frame's window starts at or after the stream's first sample.
    this.#first = Math.ceil((this.#origin + CR_WINDOW / 2) / CR_HOP) + CR_LAG;
    this.#next = this.#first - CR_LAG;
  }

  push(block: Float32Array): void {
    if (this.#finished) throw new Error('ContentReferenceWriter.push after finish');
    for (let i = 0; i < block.length; i++) if (!Number.isFinite(block[i]!)) throw new RangeError(`content reference: sample ${this.#pushed + i} is not a finite number (${block[i]})`);
    this.#pushed += block.length;
    this.#append(this.#resampler ? this.#resampler.process(block) : block);
  }

  finish(): ContentReference {
    if (!this.#finished) {
      if (this.#resampler) this.#append(this.#resampler.flush());
      this.#finished = true;
    }
    return { version: CONTENT_REF_VERSION, keyId: this.#key.id, token: this.#token, firstFrame: this.#first, bits: Uint8Array.from(this.#bits), level: Int8Array.from(this.#level) };
  }

  #append(x: Float32Array): void {
    if (x.length === 0) return;
    const joined = new Float32Array(this.#buf.length + x.length);
    joined.set(this.#buf);
    joined.set(x, this.#buf.length);
    this.#buf = joined;
    this.#received += x.length;
    // Frames whose window ends within what has been received.
    for (;;) {
      const centre = this.#next * CR_HOP - this.#origin; // stream sample index
      if (centre + CR_WINDOW / 2 > this.#received) break;
      const logE = new Float64Array(CR_BANDS);
      const level = this.#an.analyse(this.#buf, centre - this.#bufStart, logE);
      this.#history.push(logE);
      if (this.#history.length > CR_LAG + 1) this.#history.shift();
      if (this.#next >= this.#first) {
        const p = new Float64Array(CR_BITS);
        project(this.#r, logE, this.#history[0]!, p);
        let byte = 0;
        for (let j = 0; j < CR_BITS; j++) if (p[j]! > 0) byte |= 1 << j;
        this.#bits.push(byte);
        this.#level.push(level);
      }
      this.#next++;
    }
    // Keep what the next frame's window needs.
    const drop = Math.min(this.#buf.length, this.#next * CR_HOP - this.#origin - CR_WINDOW / 2 - this.#bufStart);
    if (drop > 0) {
      this.#buf = this.#buf.slice(drop);
      this.#bufStart += drop;
    }
  }
}

/** The reference of a whole downlink at once (see ContentReferenceWriter). */
export function contentReference(samples: Float32Array, sampleRate: number, opts: { key: MarkKey; token: string; offsetSec: number }): ContentReference {
  const w = new ContentReferenceWriter({ ...opts, sampleRate });
  w.push(samples);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Serialisation: a self-describing file. Header line (JSON, UTF-8) then the bytes:
//   {"format":"earmark.content-ref","version":1,"keyId":…,"token":…,"firstFrame":…,"frames":N,"hop":512,"rate":16000}\n
//   N bytes of bits, N bytes of levels, 32 bytes SHA-256 of everything before.


export class ContentRefError extends Error {
  override readonly name = 'ContentRefError';
}

export function serializeContentReference(ref: ContentReference): Uint8Array {
  const header = Buffer.from(
    JSON.stringify({ format: CONTENT_REF_FORMAT, version: ref.version, keyId: ref.keyId, token: ref.token, firstFrame: ref.firstFrame, frames: ref.bits.length, hop: CR_HOP, rate: CR_RATE }) + '\n',
    'utf8',
  );
  const body = Buffer.concat([header, Buffer.from(ref.bits), Buffer.from(ref.level.buffer, ref.level.byteOffset, ref.level.byteLength)]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Parse a content reference file; throws ContentRefError naming what is wrong. */
export function parseContentReference(bytes: Uint8Array): ContentReference {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(0x0a);
  if (nl < 0 || nl > 4096) throw new ContentRefError('not a content reference (no header line)');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(buf.subarray(0, nl).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new ContentRefError('not a content reference (header is not JSON)');
  }
  if (h.format !== CONTENT_REF_FORMAT) throw new ContentRefError(`not a content reference (format ${JSON.stringify(h.format)})`);
  if (h.version !== CONTENT_REF_VERSION) throw new ContentRefError(`content reference version ${JSON.stringify(h.version)} is not supported (this earmark reads ${CONTENT_REF_VERSION})`);
  if (h.hop !== CR_HOP || h.rate !== CR_RATE) throw new ContentRefError(`content reference grid ${String(h.hop)}/${String(h.rate)} is not ${CR_HOP}/${CR_RATE}`);
  const frames = h.frames;
  const firstFrame = h.firstFrame;
  if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 0) throw new ContentRefError('content reference: bad frame count');
  if (typeof firstFrame !== 'number' || !Number.isInteger(firstFrame) || firstFrame < 0) throw new ContentRefError('content reference: bad first frame');
  if (typeof h.keyId !== 'string' || typeof h.token !== 'string') throw new ContentRefError('content reference: keyId and token must be strings');
  const need = nl + 1 + 2 * frames + 32;
  if (buf.length !== need) throw new ContentRefError(`content reference is ${buf.length} bytes, its header says ${need} (truncated or padded)`);
  const digest = createHash('sha256').update(buf.subarray(0, need - 32)).digest();
  if (!digest.equals(buf.subarray(need - 32))) throw new ContentRefError('content reference checksum does not match (corrupt)');
  const bits = Uint8Array.from(buf.subarray(nl + 1, nl + 1 + frames));
  const lv = buf.subarray(nl + 1 + frames, nl + 1 + 2 * frames);
  const level = Int8Array.from(lv, (b) => (b > 127 ? b - 256 : b));
  return { version: CONTENT_REF_VERSION, keyId: h.keyId, token: h.token, firstFrame, bits, level };
}

/**
 * One reference from several of the same leg (a bridge that writes one per chunk, or a leg that
 * rejoined): frames in session order, gaps marked silent (level -127: never compared). Refuses
 * references of different tokens or keys, and overlapping frames that disagree.
 */
export function mergeContentReferences(refs: readonly ContentReference[]): ContentReference {
  if (refs.length === 0) throw new ContentRefError('no content references to merge');
  const first = refs[0]!;
  for (const r of refs) {
    if (r.token !== first.token) throw new ContentRefError(`cannot merge references of ${first.token} and ${r.token}`);
    if (r.keyId !== first.keyId) throw new ContentRefError(`references of ${first.token} were made with keys ${first.keyId} and ${r.keyId}`);
  }
  if (refs.length === 1) return first;
  const start = Math.min(...refs.map((r) => r.firstFrame));
  const end = Math.max(...refs.map((r) => r.firstFrame + r.bits.length));
  if (end - start > 4 * 24 * 3600 * (CR_RATE / CR_HOP)) throw new ContentRefError(`references of ${first.token} span more than 4 days of session time`);
  const bits = new Uint8Array(end - start);
  const level = new Int8Array(end - start).fill(SILENT_DB);
  const filled = new Uint8Array(end - start);
  for (const r of [...refs].sort((a, b) => a.firstFrame - b.firstFrame)) {
    for (let i = 0; i < r.bits.length; i++) {
      const j = r.firstFrame - start + i;
      if (filled[j] && (bits[j] !== r.bits[i] || level[j] !== r.level[i])) throw new ContentRefError(`references of ${first.token} overlap at session ${frameTimeSec(start + j).toFixed(3)} s and disagree`);
      bits[j] = r.bits[i]!;
      level[j] = r.level[i]!;
      filled[j] = 1;
    }
  }
  return { version: CONTENT_REF_VERSION, keyId: first.keyId, token: first.token, firstFrame: start, bits, level };
}

/** SHA-256 (hex) of a reference's serialised bytes: what the registry commits to. */
export function contentReferenceDigest(ref: ContentReference): string {
  return createHash('sha256').update(serializeContentReference(ref)).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// The check

/** Where a stretch of the clip sits in session time: T(t) = sessionOffsetSec + (t - startSec) x speed. */
export interface ContentSegment {
  startSec: number;
  endSec: number;
  sessionOffsetSec: number;
  speed: number;
  /** Replay speed moves the spectrum with it (clip frequency = session frequency x speed); a tempo change does not. */
  pitchMoved?: boolean;
}

export interface ContentComparison {
  /** Bits compared (8 per frame whose reference level is above the floor). */
  bits: number;
  /** Fraction of compared bits that agree (0.5: unrelated content). */
  agreement: number;
  /** (agree - disagree) / sqrt(bits): about N(0, 1) for content unrelated to the reference. */
  z: number;
  /** Session seconds of reference the segments covered, and of them, seconds that were described. */
  coveredSec: number;
  describedSec: number;
  /** Every compared frame: its centre in clip seconds and how many of its CR_BITS bits agreed (at the segment's best lag). */
  frames: { clipSec: number; agree: number }[];
}

/** Frames whose reference level is below max(-60 dBFS, the span's 95th percentile - 30 dB) are not compared (pauses). */
const LEVEL_FLOOR_DB = -60;
const LEVEL_RANGE_DB = 30;
/** Frames this close to a segment's edge (in frames) are not compared: the boundary is known only to the detector's resolution. */
const EDGE_FRAMES = 8;
/**
 * The detector places a segment to +-20 ms; the features are sharp in time (clean speech 8 ms off
 * agreed in 0.88 instead of 1.00), so each segment's alignment is searched over +-SEARCH_MS in
 * SEARCH_STEP_MS steps (coarse to fine) on at most SEARCH_FRAMES of its frames, and all frames
 * compared at the best. Taking the best of up to 41 lags lifts unrelated content by about two standard deviations of the
 * subset's agreement (0.5 + 2 x 0.5 / sqrt(8 x 150) = 0.53 at most): far below the check's threshold.
 */
const SEARCH_MS = 40;
const SEARCH_STEP_MS = 2;
const SEARCH_FRAMES = 150;
/** The search's first pass tries every COARSE-th lag (8 ms: clean speech 8 ms off still agreed in 0.88), the second every lag within COARSE - 1 of the best. */
const COARSE = 4;

/**
 * Compare a clip (mono, CR_RATE) with a leg's content reference along the detector's segments:
 * each reference frame inside a segment is matched with the clip frame at the mapped time (plus
 * the segment's best lag within +-SEARCH_MS).
 */
export function compareContent(clip16k: Float32Array, ref: ContentReference, key: MarkKey, segments: readonly ContentSegment[]): ContentComparison {
  if (ref.keyId !== key.id) throw new ContentRefError(`content reference of ${ref.token} was made with key ${ref.keyId}, not ${key.id}`);
  const r = projections(key);
  const dt = CR_HOP / CR_RATE;
  let coveredSec = 0;
  let describedSec = 0;
  // Reference frames inside the segments, with where their windows sit in the clip.
  const spans: { an: FrameAnalyser; frames: { bits: number; level: number; at: number; before: number }[] }[] = [];
  for (const sg of segments) {
    const t0 = sg.sessionOffsetSec;
    const t1 = sg.sessionOffsetSec + (sg.endSec - sg.startSec) * sg.speed;
    const k0 = Math.ceil(t0 / dt) + EDGE_FRAMES;
    const k1 = Math.floor(t1 / dt) - EDGE_FRAMES;
    if (k1 <= k0) continue;
    coveredSec += (k1 - k0 + 1) * dt;
    const clipSample = (k: number): number => Math.round((sg.startSec + (k * dt - t0) / sg.speed) * CR_RATE);
    const frames: (typeof spans)[number]['frames'] = [];
    for (let k = k0; k <= k1; k++) {
      const i = k - ref.firstFrame;
      if (i < 0 || i >= ref.bits.length) continue;
      describedSec += dt;
      frames.push({ bits: ref.bits[i]!, level: ref.level[i]!, at: clipSample(k), before: clipSample(k - CR_LAG) });
    }
    spans.push({ an: new FrameAnalyser(sg.pitchMoved ? sg.speed : 1), frames });
  }
  const levels = spans.flatMap((sp) => sp.frames.map((f) => f.level)).sort((a, b) => a - b);
  if (levels.length === 0) return { bits: 0, agreement: 0.5, z: 0, coveredSec, describedSec, frames: [] };
  const floor = Math.max(LEVEL_FLOOR_DB, levels[Math.min(levels.length - 1, Math.floor(0.95 * levels.length))]! - LEVEL_RANGE_DB);
  const now = new Float64Array(CR_BANDS);
  const before = new Float64Array(CR_BANDS);
  const p = new Float64Array(CR_BITS);
  // Log band energies at a clip position; in the full pass a frame's lagged frame is an earlier
  // frame's own (clipSample(k - CR_LAG)), so energies are kept by position there.
  const energies = (an: FrameAnalyser, pos: number, into: Float64Array, memo?: Map<number, Float64Array>): Float64Array => {
    const kept = memo?.get(pos);
    if (kept) return kept;
    const out = memo ? new Float64Array(CR_BANDS) : into;
    an.analyse(clip16k, pos, out);
    memo?.set(pos, out);
    return out;
  };
  const agreeing = (an: FrameAnalyser, f: { bits: number; at: number; before: number }, lag: number, memo?: Map<number, Float64Array>): number => {
    project(r, energies(an, f.at + lag, now, memo), energies(an, f.before + lag, before, memo), p);
    let a = 0;
    for (let j = 0; j < CR_BITS; j++) if ((p[j]! > 0) === (((f.bits >> j) & 1) === 1)) a++;
    return a;
  };
  let n = 0;
  let agree = 0;
  const frames: ContentComparison['frames'] = [];
  const step = Math.round((SEARCH_STEP_MS / 1000) * CR_RATE);
  const reach = Math.round(SEARCH_MS / SEARCH_STEP_MS);
  for (const sp of spans) {
    const used = sp.frames.filter((f) => f.level >= floor);
    if (used.length === 0) continue;
    const every = Math.max(1, Math.ceil(used.length / SEARCH_FRAMES));
    const subset = used.filter((_, i) => i % every === 0);
    // Coarse to fine: every COARSE-th lag over the whole reach, then every lag around the best.
    let bestLag = 0;
    let best = -1;
    const tryLag = (l: number): void => {
      let a = 0;
      for (const f of subset) a += agreeing(sp.an, f, l * step);
      if (a > best || (a === best && Math.abs(l) < Math.abs(bestLag / step))) (best = a), (bestLag = l * step);
    };
    for (let l = -reach; l <= reach; l += COARSE) tryLag(l);
    const centre = bestLag / step;
    for (let l = Math.max(-reach, centre - COARSE + 1); l <= Math.min(reach, centre + COARSE - 1); l++) if (l !== centre) tryLag(l);
    const memo = new Map<number, Float64Array>();
    for (const f of used) {
      const a = agreeing(sp.an, f, bestLag, memo);
      agree += a;
      n += CR_BITS;
      frames.push({ clipSec: (f.at + bestLag) / CR_RATE, agree: a });
    }
  }
  return { bits: n, agreement: n > 0 ? agree / n : 0.5, z: n > 0 ? (2 * agree - n) / Math.sqrt(n) : 0, coveredSec, describedSec, frames };
}
