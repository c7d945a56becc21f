/** Normal tail probabilities and the search-corrected p-value. */

/**
 * Complementary error function, Chebyshev fit with fractional error < 1.2e-7 everywhere
 * (Numerical Recipes 2nd ed., erfcc; after W. J. Cody's rational approximations).
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Upper tail of the standard normal, P(Z > z). */
export function normalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Family-wise p-value of a maximum over `hypotheses` tests whose null is N(0, sigma^2):
 * Bonferroni, min(1, hypotheses * P(Z > z / sigma)). Valid (conservative) whatever the
 * dependence between the tests.
 */
export function correctedPValue(z: number, sigma: number, hypotheses: number): number {
  return Math.min(1, hypotheses * normalTail(z / sigma));
}

/** The z (at null scale 1) whose corrected p-value is alpha: inverse of correctedPValue, by bisection. */
export function zForCorrectedP(alpha: number, hypotheses: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (correctedPValue(mid, 1, hypotheses) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The Bentkus-Dzindzalieta constant c* = 1 / (4 P(N >= sqrt 2)) ~ 3.178: for S = sum a_i e_i with
 * e_i independent fair signs and sum a_i^2 <= 1, P(S >= x) <= c* P(N >= x) for every x
 * (V. Bentkus and D. Dzindzalieta, "A tight Gaussian bound for weighted sums of Rademacher random
 * variables", Bernoulli 21(2):1231-1237, 2015).
 */
export const BENTKUS_DZINDZALIETA_C = 1 / (4 * normalTail(Math.SQRT2));

/**
 * Rigorous upper bound on P(Z >= z) for a self-normalized weighted sum of fair, independent signs,
 * Z = sum c_i s_i / sqrt(sum c_i^2) with the c_i fixed by the host (conditional on the audio; the
 * only assumption: the key's signs are unpredictable): the smaller of Hoeffding's exp(-z^2 / 2)
 * (W. Hoeffding, JASA 58:13-30, 1963, Thm 2; with |c_i s_i| <= |c_i|) and Bentkus-Dzindzalieta's
 * c* Q(z). Both hold for every z; 1 for z <= 0.
 */
export function signSumTail(z: number): number {
  if (!(z > 0)) return 1;
  // normalTail's fractional error is below 1.2e-7 (erfc above): the factor keeps the bound a bound.
  return Math.min(1, Math.exp(-0.5 * z * z), BENTKUS_DZINDZALIETA_C * normalTail(z) * (1 + 2e-7));
}

/** Family-wise p-value of the largest of `hypotheses` such statistics: Bonferroni (Boole's inequality) on signSumTail. */
export function boundedPValue(z: number, hypotheses: number): number {
  return Math.min(1, hypotheses * signSumTail(z));
}

/** The z whose bounded p-value is alpha (inverse of boundedPValue, by bisection). */
export function zForBoundedP(alpha: number, hypotheses: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (boundedPValue(mid, hypotheses) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The smallest per-statistic tail level at which the bound's model (the leg layer's signs fair and
 * independent of the audio, conditional on the host) was checked empirically: bench:tail compares
 * the observed tail of decoy-leg statistics on stress hosts with signSumTail
 * (benchmarks/results/tail-validation.md). Set from the run of 1,110,489 trials on 22 stress hosts
 * in 8 classes (lib 8446b41: the key layer's alignment refined and its part regressed out, `npm run
 * bench:tail`): validated floor 9.37e-6 for the plain statistic, 1.08e-5 for the key-weighted one;
 * a reported statistic is the larger of the two, so the larger floor, rounded up. (Before: 1e-5
 * from 1,118,195 trials at b327392, floors 3.40e-6 and 9.37e-6; 4e-5 from 100,940 trials.) The bound itself
 * holds at every z by proof; below this level only the proof, not an observation, stands behind
 * it, and the report says "<".
 */
export const VALIDATED_TAIL = 1.1e-5;

/** 10^l rounded up to one significant digit, from its base-10 logarithm (no underflow). */
function ceil1Log(l: number): string {
  let e = Math.floor(l);
  let m = Math.ceil(10 ** (l - e) - 1e-9);
  if (m >= 10) (m = 1), (e += 1);
  return `${m}e${e}`;
}

/** log10 of signSumTail(z), valid where the tail underflows (Hoeffding's exp(-z^2/2) there). */
export function log10SignSumTail(z: number): number {
  const t = signSumTail(z);
  if (t > 1e-300) return Math.log10(t);
  return (-0.5 * z * z) / Math.LN10;
}

/**
 * A p-value as a report may state it. v2 ('sign-sum-bound', z the leg's statistic, p = min(1, H x
 * signSumTail(z)), H the multiplier: hypotheses x pieces x the alpha split): the bound to one
 * significant digit rounded up, "<= p", naming the bound and H (computed in logarithms: no
 * underflow). Where the statistic's tail is below VALIDATED_TAIL the proof alone stands behind the
 * number, and the statement leads with what was observed: "< H x VALIDATED_TAIL validated
 * empirically", then the bound. v1 ('normal-approximation'): the approximation, named.
 */
export function pValueStatement(p: number, z: number, basis: 'sign-sum-bound' | 'normal-approximation', multiplier = 1): string {
  if (basis === 'normal-approximation') return `${p < 1e-300 ? '< 1e-300' : p.toExponential(1)} (normal approximation on the decoys' null scale)`;
  const l = Math.log10(multiplier) + log10SignSumTail(z);
  if (!(l < 0)) return '1 (sign-sum bound)';
  const bound = `sign-sum bound: Hoeffding / Bentkus-Dzindzalieta tail x ${Math.round(multiplier)} hypotheses`;
  if (signSumTail(z) < VALIDATED_TAIL) return `< ${ceil1Log(Math.min(0, Math.log10(multiplier * VALIDATED_TAIL)))} validated empirically; <= ${ceil1Log(l)} by the ${bound} (a proof; the key's signs fair the only assumption)`;
  return `<= ${ceil1Log(l)} (${bound}; within the empirically validated range)`;
}
