/** Window functions (periodic forms, for STFT overlap-add) and the Kaiser window. */

/** Periodic Hann window: w[i] = 0.5 - 0.5 cos(2 pi i / n); overlap-adds to 1 at hop n/2. */
export function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Square root of the periodic Hann window: analysis x synthesis overlap-adds to 1 at hop n/2. */
export function sqrtHann(n: number): Float64Array {
  const w = hann(n);
  for (let i = 0; i < n; i++) w[i] = Math.sqrt(w[i]!);
  return w;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser window value at position u in [-1, 1] for shape beta (0 outside). */
export function kaiserAt(u: number, beta: number): number {
  if (u < -1 || u > 1) return 0;
  return besselI0(beta * Math.sqrt(1 - u * u)) / besselI0(beta);
}

/** Kaiser beta for a stopband attenuation in dB (Kaiser 1974 / Oppenheim & Schafer 7.62). */
export function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}
