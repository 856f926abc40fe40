/** Small statistics for bench tables: nearest-rank percentiles and a summary. */

/** Nearest-rank percentile of `xs` (unsorted is fine); NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null) as number;
  return { n: xs.length, p50: r(percentile(xs, 50)), p95: r(percentile(xs, 95)), p99: r(percentile(xs, 99)), max: r(xs.length ? Math.max(...xs) : Number.NaN) };
}
