/**
 * Known-answer tests of the sign-sum tail bound and the bounded (family-wise) p-value of mark v2
 * (lib/mark/stats.ts). The reference values were computed independently of the library (Python's
 * math.erfc in double precision: Q(z) = erfc(z / sqrt 2) / 2), so each test fails if a factor of
 * the bound (the Bentkus-Dzindzalieta constant, the normal tail, Hoeffding's exp(-z^2/2), the
 * hypothesis count) were dropped or changed. The empirical validation of the bound on stress
 * hosts is benchmarks/tail.ts (npm run bench:tail).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BENTKUS_DZINDZALIETA_C, boundedPValue, normalTail, signSumTail, zForBoundedP } from '../lib/mark/stats.js';

const t = suite('mark/tail-bound');

/** Q(z) = P(N >= z), from Python math.erfc (not the library's erfc). */
const Q: readonly [number, number][] = [
  [0.25, 0.4012936743170763],
  [0.5, 0.3085375387259869],
  [0.75, 0.2266273523768682],
  [1, 0.15865525393145707],
  [1.5, 0.06680720126885809],
  [2, 0.02275013194817922],
  [2.5, 0.006209665325776139],
  [3, 0.0013498980316300957],
  [3.5, 0.00023262907903552504],
  [4, 3.1671241833119965e-5],
  [4.5, 3.3976731247300615e-6],
  [5, 2.866515718791946e-7],
  [6, 9.865876450377012e-10],
  [7, 1.279812543885835e-12],
  [8, 6.220960574271819e-16],
  [10, 7.619853024160593e-24],
];
/** c* = 1 / (4 Q(sqrt 2)), Q(sqrt 2) = 0.07864960352514257 (Python). */
const C_STAR = 3.178655565886997;

function close(actual: number, expected: number, rel: number, what: string): void {
  const err = Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(err <= rel, `${what}: ${actual} vs ${expected} (relative error ${err.toExponential(2)} > ${rel})`);
}

t('the Bentkus-Dzindzalieta constant is 1 / (4 Q(sqrt 2)) ~ 3.1787', () => {
  close(BENTKUS_DZINDZALIETA_C, C_STAR, 1e-6, 'c*');
});

t('normalTail matches Q(z) to the erfc fit (fractional error < 1.2e-7)', () => {
  for (const [z, q] of Q) close(normalTail(z), q, 2e-7, `Q(${z})`);
});

t('signSumTail: Hoeffding exp(-z^2/2) where it is smaller (z < 0.67), c* Q(z) beyond', () => {
  // Below z ~ 0.67 Hoeffding's bound is the smaller one.
  for (const z of [0.25, 0.5]) {
    close(signSumTail(z), Math.exp(-0.5 * z * z), 1e-12, `signSumTail(${z})`);
    assert.ok(Math.exp(-0.5 * z * z) < C_STAR * Q.find((x) => x[0] === z)![1], `Hoeffding is the smaller at ${z}`);
  }
  // Known answers: c* Q(z) (0.5043 at 1, 0.07231 at 2, 4.291e-3 at 3, 1.0067e-4 at 4, 9.112e-7 at 5).
  close(signSumTail(1), 0.5043104059664408, 1e-6, 'signSumTail(1)');
  close(signSumTail(2), 0.07231483354174346, 1e-6, 'signSumTail(2)');
  close(signSumTail(3), 0.004290860891620905, 1e-6, 'signSumTail(3)');
  close(signSumTail(4), 1.0067196913139987e-4, 1e-6, 'signSumTail(4)');
  close(signSumTail(5), 9.111666144240584e-7, 1e-6, 'signSumTail(5)');
  for (const [z, q] of Q) {
    if (z < 1) continue;
    close(signSumTail(z), C_STAR * q, 1e-6, `signSumTail(${z}) = c* Q`);
    // Neither factor may be dropped: without c* it would be 3.18x too small, without Q >= 2x too large.
    assert.ok(signSumTail(z) > 3 * q, `signSumTail(${z}) > 3 Q(z)`);
    assert.ok(signSumTail(z) < Math.exp(-0.5 * z * z), `signSumTail(${z}) < Hoeffding`);
  }
});

t('signSumTail never falls below the exact bound min(exp(-z^2/2), c* Q(z)) (the erfc fit error is covered)', () => {
  for (const [z, q] of Q) {
    const exact = Math.min(1, Math.exp(-0.5 * z * z), C_STAR * q);
    assert.ok(signSumTail(z) >= exact * (1 - 1e-12), `signSumTail(${z}) = ${signSumTail(z)} < exact bound ${exact}`);
  }
});

t('signSumTail is 1 at and below 0 and for NaN, decreasing above', () => {
  assert.is(signSumTail(0), 1);
  assert.is(signSumTail(-3), 1);
  assert.is(signSumTail(Number.NaN), 1);
  let prev = 1;
  for (let z = 0.1; z <= 12; z += 0.1) {
    const v = signSumTail(z);
    assert.ok(v < prev && v > 0, `decreasing at ${z.toFixed(1)}`);
    prev = v;
  }
});

t('boundedPValue = min(1, H x signSumTail(z)): the hypothesis count multiplies', () => {
  // H = 1: the tail itself.
  close(boundedPValue(5, 1), 9.111666144240584e-7, 1e-6, 'H = 1');
  // A v2 scan's count is legs x places x 2 statistics: 64 x 3000 x 2 = 384,000.
  close(boundedPValue(7, 384_000), 384_000 * C_STAR * 1.279812543885835e-12, 1e-6, 'H = 384,000 at z 7');
  close(boundedPValue(5, 1000), 1000 * 9.111666144240584e-7, 1e-6, 'H = 1000 at z 5');
  // Dropping the factor 2 (statistics per place) or the legs would be caught here.
  close(boundedPValue(6, 2 * 64 * 500) / boundedPValue(6, 64 * 500), 2, 1e-12, 'linear in H');
  // Capped at 1.
  assert.is(boundedPValue(1, 1000), 1);
  assert.is(boundedPValue(0, 1), 1);
  assert.is(boundedPValue(-2, 5), 1);
});

t('zForBoundedP inverts boundedPValue (independently solved z)', () => {
  // Reference z from bisection on min(1, H min(exp(-z^2/2), c* Q(z))) in Python.
  const cases: [number, number, number][] = [
    [1e-6, 1, 4.982033056390042],
    [1e-6, 384_000, 7.062228422369934],
    [0.01, 128, 4.059604038927151],
    [1e-3, 1, 3.4187059455937034],
  ];
  for (const [alpha, H, z] of cases) {
    const got = zForBoundedP(alpha, H);
    assert.ok(Math.abs(got - z) < 1e-5, `zForBoundedP(${alpha}, ${H}) = ${got}, expected ${z}`);
    close(boundedPValue(got, H), alpha, 1e-6, `boundedPValue(zForBoundedP(${alpha}, ${H}))`);
  }
});

t.run();
