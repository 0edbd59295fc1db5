import type { ChunkRow } from './search-rows.js';

/** Reciprocal rank fusion's constant (Cormack et al. 2009): a result at rank r contributes 1 / (60 + r). */
export const RRF_K = 60;

/** Weighted reciprocal rank fusion of rankings of the same rows (by id); ties broken by id for determinism. */
export function fuse(
  rankings: ChunkRow[][],
  k: number,
  weights: number[] = rankings.map(() => 1),
): ChunkRow[] {
  const fused = new Map<string, { row: ChunkRow; score: number }>();
  for (const [r, ranking] of rankings.entries()) {
    ranking.forEach((row, i) => {
      const entry = fused.get(row.id) ?? { row, score: 0 };
      entry.score += weights[r]! / (RRF_K + i + 1);
      fused.set(row.id, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.row.id.localeCompare(b.row.id))
    .slice(0, k)
    .map(({ row, score }) => ({ ...row, score }));
}
