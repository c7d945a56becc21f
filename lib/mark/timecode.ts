/**
 * Timecode confidence: how sure the block index (the session time beyond the 1.024 s sync period)
 * of a detected segment is.
 *
 * The timecode layer's tiles of band group g, summed per block j against the leg's per-chip signs,
 * are correlated with the group's block code at every residue x mod R_g: a_x. Under "the segment's
 * first block is x" a_x has mean mu and the other residues mean 0, all with variance V_g (the
 * group's tile energy), nearly independent. With a uniform prior the posterior of the decoded
 * residue x^ is 1 / sum_x exp(mu (a_x - a_x^) / V_g); mu is estimated by a_x^ (maximum likelihood,
 * so the figure is somewhat optimistic). The two groups are independent; the block confidence is
 * the product. A wrong block moves the session offset by a multiple of 1.024 s (usually by hours);
 * the offset within the block (from the sync layer) does not depend on it.
 */
import type { TileFeatures } from './features.js';
import type { LegPattern } from './pattern.js';
import { bandGroup, isSyncTile } from './pattern.js';

/** Posterior probability that session chip n0 (of relative chip 0) has the right block, from chips [ma, mb). */
export function timecodeConfidence(f: TileFeatures, pattern: LegPattern, n0: number, ma: number, mb: number): number {
  const K = f.bands;
  const P = pattern.profile.period;
  if (mb <= ma || n0 < 0) return 0;
  const b0 = Math.floor((n0 + ma) / P);
  const J = Math.floor((n0 + mb - 1) / P) - b0 + 1;
  let conf = 1;
  for (const g of [0, 1] as const) {
    const R = pattern.profile.blockPeriods[g];
    // Block sums of r * chip sign over the group's timecode tiles, and their energy.
    const bs = new Float64Array(J * K);
    let v = 0;
    for (let m = ma; m < mb; m++) {
      const n = n0 + m;
      const u = n % P;
      const j = Math.floor(n / P) - b0;
      for (let k = 0; k < K; k++) {
        if (bandGroup(k) !== g || isSyncTile(u, k)) continue;
        const x = f.r[m * K + k]!;
        if (x === 0) continue;
        bs[j * K + k]! += x * pattern.tcChip[u * K + k]!;
        v += x * x;
      }
    }
    if (!(v > 0)) return 0;
    const code = pattern.tcBlock[g];
    const a = new Float64Array(R);
    for (let x = 0; x < R; x++) {
      let acc = 0;
      for (let j = 0; j < J; j++) {
        const row = ((x + j) % R) * K;
        for (let k = g; k < K; k += 2) acc += bs[j * K + k]! * code[row + k]!;
      }
      a[x] = acc;
    }
    const decoded = b0 % R;
    const mu = Math.max(0, a[decoded]!);
    let sum = 0;
    for (let x = 0; x < R; x++) sum += Math.exp(Math.min(700, (mu * (a[x]! - a[decoded]!)) / v));
    conf *= 1 / sum;
  }
  return conf;
}
