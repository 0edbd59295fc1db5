/** What the load and soak checks print: progress notes on stderr, percentiles and rounding of the figures. */

export const note = (s: string): void =>
  void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
