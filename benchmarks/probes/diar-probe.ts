// Own-voice probe (issue 3): sign-free speaker clustering (k-means, KC clusters, on 0.5 s blocks'
// spectral shapes from the band energies) and the z at the TRUE alignment with each cluster's
// blocks excluded; prints each cluster's share of own-voice-only blocks from the simulator's truth.
//   IN=/tmp/miss-amr.json CI_=9 CHAIN=amrnb:7.95,aac:64 ONLY=20,0,2,14 node --import tsx benchmarks/probes/diar-probe.ts
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
const only = process.env.ONLY!.split(',').map(Number);
const maxPer = Number(process.env.MAXPER ?? 3);
const profile = PROFILE_V1;
const K = profile.bands, P = profile.period, Tc = profile.chipSec;
const KC = Number(process.env.KC ?? 2);
const per = new Map<number, number>();
for (const r of recs.filter((x) => only.includes(x.trial))) {
  if ((per.get(r.trial) ?? 0) >= maxPer) continue; per.set(r.trial, (per.get(r.trial) ?? 0) + 1);
  const { meeting: m, pattern: pat, analysis: an, features: f, phase, n0 } = atTruth(await meetingOf(r.trial), r, key);
  // Blocks of 16 chips; spectral shape per block from the band cumulatives (sign-free).
  const BL = 16, B = Math.ceil(f.chips / BL);
  const cum = an.bandCumulative(1);
  const shape: number[][] = []; const lvl: number[] = [];
  for (let b = 0; b < B; b++) {
    const fa = Math.min(an.frames, Math.round(((phase + b * BL * Tc) * 16000) / 128)), fb = Math.min(an.frames, Math.round(((phase + (b + 1) * BL * Tc) * 16000) / 128));
    const e = Array.from({ length: K }, (_, k) => Math.log10(1e-12 + Math.max(0, cum[fb * K + k]! - cum[fa * K + k]!) / Math.max(1, fb - fa)));
    const mu = e.reduce((a, x) => a + x, 0) / K;
    shape.push(e.map((x) => x - mu)); lvl.push(mu);
  }
  const maxL = Math.max(...lvl);
  const active = lvl.map((l) => l > maxL - 3); // within 30 dB of the loudest block
  // k-means, farthest-point init, on active blocks.
  const idx = shape.map((_, i) => i).filter((i) => active[i]);
  const dist = (a: number[], b: number[]) => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
  const cent: number[][] = [shape[idx[0]!]!.slice()];
  while (cent.length < KC) { let bi = idx[0]!, bd = -1; for (const i of idx) { const d = Math.min(...cent.map((c) => dist(shape[i]!, c))); if (d > bd) { bd = d; bi = i; } } cent.push(shape[bi]!.slice()); }
  const lab = new Int32Array(B).fill(-1);
  for (let it = 0; it < 20; it++) {
    for (const i of idx) { let bc = 0; for (let c = 1; c < KC; c++) if (dist(shape[i]!, cent[c]!) < dist(shape[i]!, cent[bc]!)) bc = c; lab[i] = bc; }
    for (let c = 0; c < KC; c++) { const mem = idx.filter((i) => lab[i] === c); if (mem.length) cent[c] = Array.from({ length: K }, (_, k) => mem.reduce((s, i) => s + shape[i]![k]!, 0) / mem.length); }
  }
  // Truth: own-voice fraction per cluster (p0 talking and no one else).
  const talk = (p: number, t: number) => m.sim.truth.participants[p].talk.some((x: any) => t >= x.startSec && t < x.endSec);
  const own = new Float64Array(KC), tot = new Float64Array(KC);
  for (const i of idx) { const t = r.s0 + (phase + (i + 0.5) * BL * Tc); tot[lab[i]!]++; if (talk(0, t) && ![1, 2, 3].some((p) => talk(p, t))) own[lab[i]!]++; }
  const zWith = (excl: number) => {
    const F = new Float64Array(P * K); let c = 0, q = 0;
    for (let mm = 0; mm < f.chips; mm++) {
      if (excl >= 0 && lab[Math.floor(mm / BL)] === excl) continue;
      const n = n0 + mm;
      for (let k = 0; k < K; k++) { const v = f.r[mm * K + k]!; if (v === 0 || profile.payloadBands.includes(k)) continue; c += v * pat.sign(n, k); if (isSyncTile(n, k)) F[(n % P) * K + k]! += v; else q += v * v; }
    }
    let vs = 0; for (const x of F) vs += x * x; return c / Math.sqrt(vs + q);
  };
  const zs = [zWith(-1), ...Array.from({ length: KC }, (_, c) => zWith(c))];
  console.log(r.trial, r.c, (r.s1 - r.s0).toFixed(1), r.hit ? 'hit ' : 'MISS', 'detZ', r.z.toFixed(2), 'need', r.zNeed.toFixed(2), 'z all/excl', zs.map((z) => z.toFixed(2)).join(' '), 'own frac', Array.from(own, (o, c) => (o / Math.max(1, tot[c]!)).toFixed(2) + '/' + tot[c]).join(' '));
}
