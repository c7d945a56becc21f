/**
 * The search plan shared by the informed detector (detect/) and the blind payload decoder
 * (payload-decode.ts): alignment hypotheses (time scale, frequency scale, chip phase), the
 * default replay-speed and tempo ranges, and which chips of a window a hypothesis covers.
 *
 * Hypothesis (rate, freqScale, phaseSec): session time = tau0 + rate * clip time; relative chip m
 * covers clip time [(phase + m Tc) / rate, (phase + (m + 1) Tc) / rate); session bands appear at
 * freqScale x their nominal frequencies (replay speed scales both, a tempo change only time).
 */

export interface Hypothesis {
  rate: number;
  freqScale: number;
  phaseSec: number;
}

export interface HypRecord extends Hypothesis {
  kind: 'speed' | 'tempo';
}

/** Replay-speed (time and frequency scale) and tempo (time scale only) ranges searched by default. */
export const DEFAULT_SPEED_RANGE: readonly [number, number] = Object.freeze([0.95, 1.05] as const);
export const DEFAULT_TEMPO_RANGE: readonly [number, number] = Object.freeze([0.97, 1.03] as const);

/** Time-scale grid 1 + i * step over the speed and tempo ranges, at the given chip phases (s). */
export function hypothesisGrid(step: number, speedRange: readonly [number, number], tempoRange: readonly [number, number], phases: readonly number[]): HypRecord[] {
  const lo = Math.min(speedRange[0], tempoRange[0]);
  const hi = Math.max(speedRange[1], tempoRange[1]);
  const out: HypRecord[] = [];
  const iLo = Math.ceil((lo - 1) / step - 1e-9);
  const iHi = Math.floor((hi - 1) / step + 1e-9);
  for (let i = iLo; i <= iHi; i++) {
    const rate = 1 + i * step;
    for (const phaseSec of phases) {
      const inSpeed = rate >= speedRange[0] - 1e-12 && rate <= speedRange[1] + 1e-12;
      const inTempo = rate >= tempoRange[0] - 1e-12 && rate <= tempoRange[1] + 1e-12;
      if (inSpeed) out.push({ rate, freqScale: rate, phaseSec, kind: 'speed' });
      // Band edges move by |rate - 1|; below ~1.2% the speed hypothesis covers tempo too.
      if (inTempo && (!inSpeed || Math.abs(rate - 1) > 0.012)) out.push({ rate, freqScale: 1, phaseSec, kind: 'tempo' });
    }
  }
  return out;
}

/** Relative chips [ma, mb) of a clip-time window under a hypothesis (chips: the hypothesis's chip count). */
export function chipRange(w: { startSec: number; endSec: number }, hyp: Hypothesis, chipSec: number, chips: number): [number, number] {
  const ma = Math.max(0, Math.ceil((hyp.rate * w.startSec - hyp.phaseSec) / chipSec - 1e-9));
  const mb = Math.min(chips, Math.floor((hyp.rate * w.endSec - hyp.phaseSec) / chipSec + 1e-9));
  return [ma, Math.max(ma, mb)];
}

/** Session time tau0 (s, at clip time 0) of an alignment, as the chip phase and the session chip of relative chip 0. */
export function alignmentOf(tau0: number, chipSec: number): { phaseSec: number; n0: number } {
  const phaseSec = ((-tau0 % chipSec) + chipSec) % chipSec;
  return { phaseSec, n0: Math.round((tau0 + phaseSec) / chipSec) };
}
