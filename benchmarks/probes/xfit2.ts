// Own-voice probe (issue 3): cross-fitted time weighting at the TRUE alignment of the clips listed in
// a miss-probe.ts JSON. Per 1.024 s block, one layer's (sync or timecode) local evidence weights the
// other layer (valid: the layers' signs are independent); z = (z_plain_layer + z_weighted_layer) / sqrt 2.
// Columns: z/zNeed of the detector, plain z, then s2t/t2s for local-window weights max(0, z_local)
// with H = 2, 1, (2, +1 shift), 3 blocks, then a 2-state HMM posterior (stay 0.85, 0.7).
//   IN=/tmp/miss-amr.json CI_=9 CHAIN=amrnb:7.95,aac:64 ONLY=20 node --import tsx benchmarks/probes/xfit2.ts
import { readFileSync } from 'node:fs';
import { keyFromBytes } from '../../lib/mark/index.js';
import { PROFILE_V1, isSyncTile } from '../../lib/mark/pattern.js';
import { loadVoices } from '../meeting.js';
import { atTruth, mustsMeetings } from './truth.js';
import type { ClipRecord } from './truth.js';
const key = keyFromBytes(new Uint8Array(32).fill(7));
const voices = await loadVoices();
const recs: ClipRecord[] = JSON.parse(readFileSync(process.env.IN!, 'utf8'));
const meetingOf = mustsMeetings({ condIdx: Number(process.env.CI_), chain: process.env.CHAIN!, key, voices });
const only = process.env.ONLY?.split(',').map(Number);
const sel = only ? recs.filter((r) => only.includes(r.trial)) : process.env.SEL === 'all' ? recs : recs.filter((r) => r.z / r.zNeed < Number(process.env.SEL ?? 1.15));
const profile = PROFILE_V1;
const K = profile.bands, P = profile.period;
const out: number[][] = [];
for (const r of sel) {
  const { pattern: pat, features: f, n0 } = atTruth(await meetingOf(r.trial), r, key);
  const B = Math.ceil((f.chips + (n0 % P)) / P);
  const cs = new Float64Array(B), qs = new Float64Array(B), ct = new Float64Array(B), qt = new Float64Array(B);
  const fold = (w: Float64Array | null) => { const F = new Float64Array(P * K); for (let mm = 0; mm < f.chips; mm++) { const n = n0 + mm, b = Math.floor(n / P) - Math.floor(n0 / P); for (let k = 0; k < K; k++) if (isSyncTile(n, k) && !profile.payloadBands.includes(k)) F[(n % P) * K + k]! += (w ? w[b]! : 1) * f.r[mm * K + k]!; } let s = 0; for (const x of F) s += x * x; return s; };
  for (let mm = 0; mm < f.chips; mm++) {
    const n = n0 + mm, b = Math.floor(n / P) - Math.floor(n0 / P);
    for (let k = 0; k < K; k++) {
      const v = f.r[mm * K + k]!; if (v === 0 || profile.payloadBands.includes(k)) continue;
      const s = pat.sign(n, k);
      if (isSyncTile(n, k)) { cs[b] += v * s; qs[b] += v * v; } else { ct[b] += v * s; qt[b] += v * v; }
    }
  }
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const Vs = fold(null);
  const plain = (sum(cs) + sum(ct)) / Math.sqrt(Vs + sum(qt));
  const zs = sum(cs) / Math.sqrt(Vs), zt = sum(ct) / Math.sqrt(sum(qt));
  const hmm = (c: Float64Array, q: Float64Array, stay: number) => {
    // two-state HMM over blocks: e_b ~ N(rho sqrt(q_b) x_b, 1), posterior P(x_b = 1) by forward-backward, rho by EM.
    const e = Float64Array.from(c, (v, b) => (q[b]! > 0 ? v / Math.sqrt(q[b]!) : 0));
    let rho = 0; { let a = 0, d = 0; for (let b = 0; b < B; b++) { a += c[b]!; d += q[b]!; } rho = Math.max(1e-9, 2 * a / Math.max(d, 1e-12)); }
    const g = new Float64Array(B).fill(0.5);
    for (let it = 0; it < 8; it++) {
      const l1 = Float64Array.from(e, (v, b) => Math.exp(-0.5 * (v - rho * Math.sqrt(q[b]!)) ** 2 + 0.5 * v * v));
      const fw = new Float64Array(B), bw = new Float64Array(B).fill(1);
      for (let b = 0; b < B; b++) { const pr = b === 0 ? 0.5 : fw[b - 1]! * stay + (1 - fw[b - 1]!) * (1 - stay); const a1 = pr * l1[b]!, a0 = 1 - pr; fw[b] = a1 / (a1 + a0); }
      for (let b = B - 2; b >= 0; b--) { const n1 = l1[b + 1]! * bw[b + 1]!; /* bw[b]: P(future | x_b = 1) / P(future | x_b = 0) */ const r1 = stay * n1 + (1 - stay), r0 = (1 - stay) * n1 + stay; bw[b] = r1 / r0; }
      for (let b = 0; b < B; b++) { const o = (fw[b]! / (1 - fw[b]! + 1e-300)) * bw[b]!; g[b] = o / (1 + o); }
      let a = 0, d = 0; for (let b = 0; b < B; b++) { a += g[b]! * c[b]!; d += g[b]! * q[b]!; }
      rho = Math.max(1e-9, a / Math.max(d, 1e-12));
    }
    return g;
  };
  const cross = (wsFromS: Float64Array, wtFromT: Float64Array) => {
    let a = 0, e = 0; for (let b = 0; b < B; b++) { a += wsFromS[b]! * ct[b]!; e += wsFromS[b]! ** 2 * qt[b]!; }
    const ztw = e > 0 ? a / Math.sqrt(e) : 0;
    a = 0; for (let b = 0; b < B; b++) a += wtFromT[b]! * cs[b]!;
    const Vsw = fold(wtFromT);
    const zsw = Vsw > 0 ? a / Math.sqrt(Vsw) : 0;
    return [(zs + ztw) / Math.SQRT2, (zt + zsw) / Math.SQRT2];
  };
  // Weights from local windows of +-H blocks: wf(local z).
  const variant = (H: number, wf: (z: number) => number) => {
    const local = (c: Float64Array, q: Float64Array) => Float64Array.from(c, (_, b) => { let a = 0, e = 0; for (let j = Math.max(0, b - H); j <= Math.min(B - 1, b + H); j++) { a += c[j]!; e += q[j]!; } return e > 0 ? wf(a / Math.sqrt(e)) : 0; });
    return cross(local(cs, qs), local(ct, qt));
  };
  const h85 = cross(hmm(cs, qs, 0.85), hmm(ct, qt, 0.85));
  const h7 = cross(hmm(cs, qs, 0.7), hmm(ct, qt, 0.7));
  const v1 = variant(2, (z) => Math.max(0, z));
  const v2 = variant(1, (z) => Math.max(0, z));
  const v3 = variant(2, (z) => Math.max(0, z + 1));
  const v4 = variant(3, (z) => Math.max(0, z));
  const row = [r.z / r.zNeed, plain, ...v1, ...v2, ...v3, ...v4, ...h85, ...h7];
  out.push(row);
  console.log(r.trial, r.c, (r.s1 - r.s0).toFixed(1), r.hit ? 'hit ' : 'MISS', row.map((x) => x.toFixed(2)).join(' '), 'zNeed', r.zNeed.toFixed(2));
}
const cols = ['ratio', 'plain', 'H2s2t', 'H2t2s', 'H1s2t', 'H1t2s', 'H2+1s2t', 'H2+1t2s', 'H3s2t', 'H3t2s', 'hmm85s2t', 'hmm85t2s', 'hmm7s2t', 'hmm7t2s'];
for (let i = 1; i < cols.length; i++) { const g = out.map((r) => r[i]! / r[1]!).sort((a, b) => a - b); console.log(cols[i], 'gain median', g[Math.floor(g.length / 2)]!.toFixed(3), 'min', g[0]!.toFixed(3), 'p10', g[Math.floor(g.length * 0.1)]!.toFixed(3)); }
