/**
 * Band-limited resampling by an arbitrary ratio: windowed-sinc interpolation (Kaiser window),
 * with the kernel tabulated at `phases` sub-sample positions and linearly interpolated between
 * them (Smith, "Digital Audio Resampling", CCRMA). The cutoff is `rolloff` x the lower Nyquist,
 * so downsampling low-pass filters first (aliasing rejected) and upsampling adds no images.
 *
 * Streaming: `process(block)` returns the output samples computable so far, `flush()` the rest
 * (input beyond the end is taken as zeros). Output sample j sits at input position
 * j * inRate / outRate, so the output is time-aligned with the input (no delay) and the total
 * output length is round(inputLength * outRate / inRate).
 */
import { kaiserAt, kaiserBeta } from './window.js';

export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side (at the lower of the two rates). Default 16. */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. Default 0.92. */
  rolloff?: number;
  /** Stopband attenuation (dB) that sets the Kaiser shape. Default 90. */
  attenuationDb?: number;
  /** Kernel table resolution per input sample. Default 256. */
  phases?: number;
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Kernel half width in input samples. */
  readonly halfWidth: number;
  readonly #table: Float64Array;
  /** Kernel argument scale: table index = |distance in input samples| * #scale. */
  readonly #scale: number;
  readonly #gain: number;
  #buf: Float32Array = new Float32Array(0);
  /** Absolute input index of #buf[0]. */
  #bufStart = 0;
  #inCount = 0;
  #outIndex = 0;
  #flushed = false;

  constructor(inRate: number, outRate: number, opts: ResamplerOptions = {}) {
    if (!(inRate > 0) || !(outRate > 0)) throw new RangeError(`sample rates must be positive, got ${inRate} -> ${outRate}`);
    this.inRate = inRate;
    this.outRate = outRate;
    const zc = opts.zeroCrossings ?? 16;
    const rolloff = opts.rolloff ?? 0.92;
    const beta = kaiserBeta(opts.attenuationDb ?? 90);
    const phases = opts.phases ?? 256;
    const ratio = Math.min(1, outRate / inRate);
    // Cutoff in cycles per input sample, and the kernel half width in input samples.
    const fc = 0.5 * ratio * rolloff;
    this.halfWidth = zc / (2 * fc);
    // Tabulate in units of "zero crossings": u in [0, zc], table index = u * phases.
    const n = zc * phases + 2;
    const table = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = i / phases;
      const x = Math.PI * u;
      const sinc = u === 0 ? 1 : Math.sin(x) / x;
      table[i] = sinc * kaiserAt(u / zc, beta);
    }
    this.#table = table;
    this.#scale = 2 * fc * phases;
    this.#gain = 2 * fc;
  }

  /** Input samples consumed so far. */
  get inputLength(): number {
    return this.#inCount;
  }

  process(block: Float32Array): Float32Array {
    if (this.#flushed) throw new Error('Resampler.process called after flush');
    const keepFrom = Math.max(this.#bufStart, Math.floor(this.#outIndex * (this.inRate / this.outRate) - this.halfWidth) - 1);
    const drop = keepFrom - this.#bufStart;
    const kept = this.#buf.subarray(drop);
    const next = new Float32Array(kept.length + block.length);
    next.set(kept, 0);
    next.set(block, kept.length);
    this.#buf = next;
    this.#bufStart = keepFrom;
    this.#inCount += block.length;
    // Output j needs input up to position t_j + halfWidth.
    const lastT = this.#inCount - 1 - this.halfWidth;
    const lastJ = lastT < 0 ? -1 : Math.floor((lastT * this.outRate) / this.inRate);
    return this.#produce(lastJ);
  }

  flush(): Float32Array {
    if (this.#flushed) return new Float32Array(0);
    this.#flushed = true;
    const total = Math.round((this.#inCount * this.outRate) / this.inRate);
    return this.#produce(total - 1);
  }

  #produce(lastJ: number): Float32Array {
    const count = Math.max(0, lastJ - this.#outIndex + 1);
    const out = new Float32Array(count);
    const buf = this.#buf;
    const start = this.#bufStart;
    const end = start + buf.length;
    const table = this.#table;
    const scale = this.#scale;
    const hw = this.halfWidth;
    const tableMax = table.length - 2;
    for (let o = 0; o < count; o++) {
      const j = this.#outIndex + o;
      const t = (j * this.inRate) / this.outRate;
      const lo = Math.max(start, Math.ceil(t - hw));
      const hi = Math.min(end - 1, Math.floor(t + hw));
      let acc = 0;
      for (let i = lo; i <= hi; i++) {
        const pos = Math.abs(t - i) * scale;
        const k = pos | 0;
        if (k >= tableMax) continue;
        const frac = pos - k;
        const w = table[k]! + frac * (table[k + 1]! - table[k]!);
        acc += w * buf[i - start]!;
      }
      out[o] = acc * this.#gain;
    }
    this.#outIndex += count;
    return out;
  }
}

/** Resample a whole signal (a loop over the streaming Resampler). */
export function resample(samples: Float32Array, inRate: number, outRate: number, opts: ResamplerOptions = {}): Float32Array {
  if (inRate === outRate) return samples.slice();
  const r = new Resampler(inRate, outRate, opts);
  const parts: Float32Array[] = [];
  const blockSize = 65536;
  for (let i = 0; i < samples.length; i += blockSize) parts.push(r.process(samples.subarray(i, i + blockSize)));
  parts.push(r.flush());
  return concatFloat32(parts);
}

export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
