/**
 * The vector floor (SEARCH_MIN_SIMILARITY) swept offline for bench/scifact.ts `--floors`: the `vector` and `text`
 * rankings already fetched (k = 100, the service run without a floor) are cut at each floor and, for the hybrid,
 * fused with the service's own `fuse()` and text weight, as the service would with that floor. Also the
 * off-topic queries (bench/off-topic-queries.txt: topics SciFact does not cover) that each mode returns empty.
 */
import { readFileSync } from 'node:fs';
import { fuse } from '../src/projections/chunks/search.js';

/** A ranking of chunks, `id` = documentId/version/chunkIndex, with the vector side's cosine similarity. */
export type Ranked = Array<{ id: string; score: number }>;
export interface Rankings {
  vector: Map<string, Ranked>;
  text: Map<string, Ranked>;
}

export function readOffTopic(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

const rows = (ranked: Ranked) =>
  ranked.map(({ id, score }) => ({ id, score }) as unknown as Parameters<typeof fuse>[0][0][0]);

/** The vector and hybrid rankings (chunk ids) a floor leaves for one query. */
export function withFloor(r: Rankings, qid: string, floor: number, textWeight: number, k = 100) {
  const vector = r.vector.get(qid)!.filter((h) => h.score >= floor);
  const hybrid = fuse([rows(vector), rows(r.text.get(qid)!)], k, [1, textWeight]).map((h) => h.id);
  return { vector: vector.map((h) => h.id), hybrid };
}

/** One table row per floor: dev-set quality of vector and hybrid, and the off-topic queries left empty. */
export function floorTable(
  floors: number[],
  dev: { rankings: Rankings; judge: (qid: string, chunkIds: string[]) => [number, number] },
  offTopic: Rankings,
  textWeight: number,
  summary: (xs: number[]) => string,
): string {
  const lines = [
    '| floor | vector nDCG@10 | vector recall@100 | hybrid nDCG@10 | hybrid recall@100 | gated hybrid nDCG@10 | judged queries empty (vector) | off-topic empty: vector | off-topic empty: hybrid |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const n = offTopic.vector.size;
  for (const floor of floors) {
    const m = {
      vn: [] as number[],
      vr: [] as number[],
      hn: [] as number[],
      hr: [] as number[],
      gn: [] as number[],
    };
    let devEmpty = 0;
    for (const qid of dev.rankings.vector.keys()) {
      const { vector, hybrid } = withFloor(dev.rankings, qid, floor, textWeight);
      if (!vector.length) devEmpty++;
      const [vn, vr] = dev.judge(qid, vector);
      const [hn, hr] = dev.judge(qid, hybrid);
      m.vn.push(vn);
      m.vr.push(vr);
      m.hn.push(hn);
      m.hr.push(hr);
      // Gated (not the service's behaviour): the hybrid returns nothing when no vector candidate passes; its
      // off-topic empties are the vector's.
      m.gn.push(vector.length ? hn : 0);
    }
    let [vEmpty, hEmpty] = [0, 0];
    for (const qid of offTopic.vector.keys()) {
      const { vector, hybrid } = withFloor(offTopic, qid, floor, textWeight);
      if (!vector.length) vEmpty++;
      if (!hybrid.length) hEmpty++;
    }
    lines.push(
      `| ${floor} | ${summary(m.vn)} | ${summary(m.vr)} | ${summary(m.hn)} | ${summary(m.hr)} | ${summary(m.gn)} | ` +
        `${devEmpty} / ${dev.rankings.vector.size} | ${vEmpty} / ${n} | ${hEmpty} / ${n} |`,
    );
  }
  return lines.join('\n');
}

/** Off-topic similarity profile: the best vector similarity of each query, as quantiles. */
export function bestScores(r: Rankings): string {
  const best = [...r.vector.values()].map((h) => h[0]?.score ?? -1).sort((a, b) => a - b);
  const q = (p: number) => best[Math.min(best.length - 1, Math.floor(p * best.length))]!.toFixed(3);
  return `min ${q(0)}, p25 ${q(0.25)}, median ${q(0.5)}, p75 ${q(0.75)}, max ${q(1)}`;
}
