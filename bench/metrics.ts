/** Ranking metrics shared by bench/scifact.ts and bench/gates.ts: nDCG, the mean and its bootstrap interval. */

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Percentile bootstrap 95 % interval of the mean over queries (2,000 resamples, fixed seed). */
export function interval(xs: number[]): string {
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const means: number[] = [];
  for (let b = 0; b < 2000; b++) {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[Math.floor(random() * xs.length)]!;
    means.push(sum / xs.length);
  }
  means.sort((a, b) => a - b);
  return `${means[49]!.toFixed(3)}–${means[1949]!.toFixed(3)}`;
}

export function ndcgAt(ranked: string[], rels: Map<string, number>, k: number): number {
  const dcg = ranked
    .slice(0, k)
    .reduce((s, d, i) => s + ((rels.get(d) ?? 0) > 0 ? (2 ** rels.get(d)! - 1) / Math.log2(i + 2) : 0), 0);
  const ideal = [...rels.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((s, r, i) => s + (2 ** r - 1) / Math.log2(i + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

/** nDCG@10 and recall@100 of a ranking of documents (service ids, mapped to corpus ids; a document once). */
export function judgeWith(
  corpusIdsOf: Map<string, string[]>,
  documentIds: string[],
  rels: Map<string, number>,
): [number, number] {
  const ranked: string[] = [];
  for (const id of documentIds)
    for (const cid of corpusIdsOf.get(id) ?? []) if (!ranked.includes(cid)) ranked.push(cid);
  const recall = [...rels.keys()].filter((d) => ranked.slice(0, 100).includes(d)).length / rels.size;
  return [ndcgAt(ranked, rels, 10), recall];
}
