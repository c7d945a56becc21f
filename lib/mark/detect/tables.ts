/**
 * Per-candidate tables of the detector: each leg's (or decoy's) pattern, the spectrum of its
 * sync layer (for the fold's circular correlation, sync.ts) and its timecode block codes packed
 * by nibbles (for the residue search, timecode-search.ts). A DetectorCache keeps them across scans
 * with one key: the decoys are the same for every scan, and a registry's legs recur.
 */
import { RealFft } from '../../dsp/fft.js';
import { HostHash } from '../host-hash.js';
import type { MarkKey } from '../keys.js';
import { PayloadLayer } from '../payload-layer.js';
import { KEY_LAYER_TOKEN, LegLayer, LegPattern, decoyToken } from '../pattern.js';
import type { DecoyRef, PatternRef } from '../pattern.js';
import { isSyncTile } from '../profile.js';
import type { MarkProfile } from '../profile.js';

export interface CandidateTables {
  pattern: LegPattern;
  /** Spectrum of the sync pattern per band (P/2+1 bins), re and im, bin-major (b * K + k). */
  syncRe: Float64Array;
  syncIm: Float64Array;
  /**
   * Block codes of the two timecode band groups by nibbles (timecode-search.ts): code row x,
   * nibble q (compact group bands 4q..4q+3, the group's bands being g, g + 2, ...) at x * nibbles
   * + q, bit i set when band 4q + i's code is -1.
   */
  codeNib: [Uint8Array, Uint8Array];
}

interface KeyEntry {
  payload: PayloadLayer;
  hostHash: HostHash;
  tables: Map<string, CandidateTables>;
  legLayers: Map<string, LegLayer>;
}

/** Most tables kept per key and profile (cleared when full). */
const TABLE_CACHE_MAX = 1024;

/** Candidate and decoy tables per key and profile, for reuse across scans (bounded). */
export class DetectorCache {
  readonly #byKey = new WeakMap<MarkKey, WeakMap<MarkProfile, KeyEntry>>();
  readonly #ffts = new Map<number, RealFft>();

  /** The tables of a leg's token or a decoy under a key. */
  tables(key: MarkKey, token: PatternRef, profile: MarkProfile): CandidateTables {
    let byProfile = this.#byKey.get(key);
    if (!byProfile) {
      byProfile = new WeakMap();
      this.#byKey.set(key, byProfile);
    }
    let entry = byProfile.get(profile);
    if (!entry) {
      entry = { payload: new PayloadLayer(key, profile), hostHash: new HostHash(key, profile), tables: new Map(), legLayers: new Map() };
      byProfile.set(profile, entry);
    }
    const name = typeof token === 'string' ? token : 'decoy' in token ? decoyToken(token.decoy) : KEY_LAYER_TOKEN;
    const hit = entry.tables.get(name);
    if (hit) return hit;
    const t = buildTables(new LegPattern(key, token, { profile, payload: entry.payload }), this.#fft(profile.period));
    if (entry.tables.size >= TABLE_CACHE_MAX) entry.tables.clear();
    entry.tables.set(name, t);
    return t;
  }

  /** v2: a leg's (or decoy's) own layer under a key. */
  legLayer(key: MarkKey, token: string | DecoyRef, profile: MarkProfile): LegLayer {
    this.tables(key, { decoy: 0 }, profile);
    const entry = this.#byKey.get(key)!.get(profile)!;
    const name = typeof token === 'string' ? token : decoyToken(token.decoy);
    let l = entry.legLayers.get(name);
    if (!l) {
      l = new LegLayer(key, token, profile);
      if (entry.legLayers.size >= TABLE_CACHE_MAX) entry.legLayers.clear();
      entry.legLayers.set(name, l);
    }
    return l;
  }

  /** v2: the key's host hash (host-hash.ts). */
  hostHash(key: MarkKey, profile: MarkProfile): HostHash {
    this.tables(key, { decoy: 0 }, profile);
    return this.#byKey.get(key)!.get(profile)!.hostHash;
  }

  /** The payload layer of a key (shared by every leg's pattern). */
  payloadLayer(key: MarkKey, profile: MarkProfile): PayloadLayer {
    this.tables(key, { decoy: 0 }, profile);
    return this.#byKey.get(key)!.get(profile)!.payload;
  }

  #fft(n: number): RealFft {
    let fft = this.#ffts.get(n);
    if (!fft) {
      fft = new RealFft(n);
      this.#ffts.set(n, fft);
    }
    return fft;
  }
}

function buildTables(pattern: LegPattern, fft: RealFft): CandidateTables {
  const profile = pattern.profile;
  const P = profile.period;
  const K = profile.bands;
  const bins = fft.bins;
  const syncRe = new Float64Array(K * bins);
  const syncIm = new Float64Array(K * bins);
  const col = new Float64Array(P);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let k = 0; k < K; k++) {
    for (let v = 0; v < P; v++) col[v] = isSyncTile(v, k) ? pattern.sync[v * K + k]! : 0;
    fft.forward(col, re, im);
    for (let b = 0; b < bins; b++) {
      syncRe[b * K + k] = re[b]!;
      syncIm[b * K + k] = im[b]!;
    }
  }
  const G = K >> 1;
  const nQ = Math.ceil(G / 4);
  const nib = (g: 0 | 1): Uint8Array => {
    const R = profile.blockPeriods[g];
    const src = pattern.tcBlock[g];
    const out = new Uint8Array(R * nQ);
    for (let x = 0; x < R; x++) {
      for (let kk = 0; kk < G; kk++) if (src[x * K + g + 2 * kk]! < 0) out[x * nQ + (kk >> 2)]! |= 1 << (kk & 3);
    }
    return out;
  };
  return { pattern, syncRe, syncIm, codeNib: [nib(0), nib(1)] };
}
