/**
 * Confidence bounds for the decisions pier makes on samples (a rollout step, a gate, a drift flag):
 * each names its level, so a verdict can say "99 % lower bound 0.031 over 412 requests" and a
 * reader can check it. One-sided bounds at a z of the standard normal (1.645 ≈ 95 %, 2.326 ≈ 99 %,
 * 2.576 ≈ 99.5 %, 3.291 ≈ 99.95 %).
 *
 * - a proportion: Wilson's score interval (good at 0 and 1, unlike the normal approximation);
 * - a difference of proportions: Newcombe's hybrid score interval (his method 10), from the two
 *   Wilson intervals;
 * - a quantile: distribution-free, from order statistics (the ranks a binomial(n, q) count allows);
 *   undefined when n is too small for a bound at that level;
 * - a mean: the normal approximation (n ≥ 30).
 */

export interface Interval {
  low: number;
  high: number;
}

/** The one-sided confidence level of a z, in words ("99 %"). */
export function levelOf(z: number): string {
  const p = 1 - 0.5 * erfc(z / Math.SQRT2);
  const percent = p * 100;
  return `${percent >= 99.9 ? percent.toFixed(2) : percent >= 99 ? percent.toFixed(1) : percent.toFixed(0)} %`;
}

/** The complementary error function (Numerical Recipes' erfcc: |error| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Wilson's score interval of k successes in n trials (each side at `z`). */
export function wilson(k: number, n: number, z: number): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  // Exact at the ends (the formula leaves rounding dust there: 2e-19 for no successes at all).
  return { low: k <= 0 ? 0 : Math.max(0, center - half), high: k >= n ? 1 : Math.min(1, center + half) };
}

/** Newcombe's interval of p1 − p2 (k1 of n1 against k2 of n2), each side at `z`. */
export function proportionDifference(k1: number, n1: number, k2: number, n2: number, z: number): Interval {
  const p1 = n1 > 0 ? k1 / n1 : 0;
  const p2 = n2 > 0 ? k2 / n2 : 0;
  const a = wilson(k1, n1, z);
  const b = wilson(k2, n2, z);
  const d = p1 - p2;
  return {
    low: d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2),
    high: d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2),
  };
}

/**
 * Bounds on the q-quantile of the population a sorted sample came from: the order statistics whose
 * ranks a binomial(n, q) count reaches with probability 1 − Φ(−z) on each side. A side the sample is
 * too small to bound is undefined (the p99 of 100 values has no upper bound at 99 %).
 */
export function quantileBounds(
  sorted: ArrayLike<number>,
  q: number,
  z: number,
): { low: number | undefined; high: number | undefined } {
  const n = sorted.length;
  if (n === 0) return { low: undefined, high: undefined };
  const spread = z * Math.sqrt(n * q * (1 - q));
  // 1-based ranks, with a continuity correction of one on each side.
  const lowRank = Math.floor(n * q - spread);
  const highRank = Math.ceil(n * q + spread) + 1;
  return {
    low: lowRank >= 1 ? sorted[lowRank - 1] : undefined,
    high: highRank <= n ? sorted[highRank - 1] : undefined,
  };
}

/** The mean of a sample with its normal-approximation interval (each side at `z`). */
export function meanBounds(values: readonly number[], z: number): Interval & { mean: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const half = z * Math.sqrt(variance / n);
  return { mean, low: mean - half, high: mean + half };
}
