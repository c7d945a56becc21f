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
