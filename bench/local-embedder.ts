/**
 * Retrieval quality and speed of the LocalEmbedder on BEIR SciFact (corpus.jsonl, queries.jsonl, qrels/test.tsv).
 *
 * - vector: each document (title + " " + text, one vector) and each test query embedded; exact cosine top-100.
 * - pg~ (APPROXIMATION of PostgreSQL full-text search, not PostgreSQL itself): english-stopword-filtered
 *   Porter stems (plus whole hyphen compounds, as PG's parser emits them), an OR-match of the query's lexemes
 *   ranked by ts_rank's formula (calc_rank_or, all positions weight D = 0.1, no normalisation, no IDF).
 * - hybrid~: reciprocal rank fusion (k = 60) of the vector top-100 and the pg~ top-100.
 *
 * Reports nDCG@10 (graded gains, log2 discount, as pytrec_eval) and recall@100 over the test queries; the
 * embedding throughput on one core (JavaScript is single-threaded; pin with `taskset -c 0` to be strict): the
 * first pass over the corpus with empty caches, then warm passes over the documents (≈1,500 characters each)
 * and over ≈1,200-character chunks cut from them; the embedder's memory, measured in a child process as the
 * peak RSS over the RSS before it was imported (gpt-tokenizer's cl100k_base tables included, ≈40 MB, which
 * the service loads anyway), and the whole process's peak RSS.
 * --proxy N evaluates on a development set built from the corpus alone (an inverse cloze task, bench/beir.ts)
 * instead of the test queries.
 * Run: npx tsx bench/local-embedder.ts <scifactDir> [--dims N] [--tune '{"ngramWeight":0.5}'] [--no-speed]
 *      [--proxy 1000]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalEmbedderTuning } from '../src/infrastructure/embeddings/local-embedder.js';
import { readBeir } from './beir.js';

// Imported lazily so that the memory child can measure the RSS before the embedder (and gpt-tokenizer's
// cl100k_base ranks, which the service loads anyway for chunk sizes) is loaded.
const { LocalEmbedder, porterStem } = process.argv.includes('--memory-child')
  ? ({} as typeof import('../src/infrastructure/embeddings/local-embedder.js'))
  : await import('../src/infrastructure/embeddings/local-embedder.js');

interface Doc {
  id: string;
  text: string;
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function args(): {
  dir: string;
  dims?: number;
  tuning: Partial<LocalEmbedderTuning>;
  speed: boolean;
  memoryOnly: boolean;
  proxy: number;
} {
  const argv = process.argv.slice(2);
  let dir: string | undefined;
  let dims: number | undefined;
  let tuning: Partial<LocalEmbedderTuning> = {};
  let speed = true;
  let memoryOnly = false;
  let proxy = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dims') dims = Number(argv[++i]);
    else if (a === '--tune') tuning = JSON.parse(argv[++i]!) as Partial<LocalEmbedderTuning>;
    else if (a === '--no-speed') speed = false;
    else if (a === '--memory-child') memoryOnly = true;
    else if (a === '--proxy') proxy = Number(argv[++i]);
    else dir = a;
  }
  if (!dir) {
    console.error(
      'usage: npx tsx bench/local-embedder.ts <scifactDir> [--dims N] [--tune JSON] [--no-speed] [--proxy N]',
    );
    process.exit(2);
  }
  return { dir, dims, tuning, speed, memoryOnly, proxy };
}

// ---------------------------------------------------------------------------------------------------------
// Metrics

type Qrels = Map<string, Map<string, number>>;

function ndcgAt(ranked: readonly string[], rels: Map<string, number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const g = rels.get(ranked[i]!) ?? 0;
    if (g > 0) dcg += g / Math.log2(i + 2);
  }
  const ideal = [...rels.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

function recallAt(ranked: readonly string[], rels: Map<string, number>, k: number): number {
  const relevant = [...rels].filter(([, g]) => g > 0).map(([d]) => d);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((d) => top.has(d)).length / relevant.length;
}

function evaluate(runs: Map<string, string[]>, qrels: Qrels): { ndcg10: number; recall100: number } {
  let ndcg = 0;
  let recall = 0;
  for (const [qid, rels] of qrels) {
    const ranked = runs.get(qid) ?? [];
    ndcg += ndcgAt(ranked, rels, 10);
    recall += recallAt(ranked, rels, 100);
  }
  return { ndcg10: ndcg / qrels.size, recall100: recall / qrels.size };
}

function topK(scores: Float64Array | Float32Array, ids: readonly string[], k: number, minScore = -Infinity) {
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > minScore) order.push(i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order.slice(0, k).map((i) => ids[i]!);
}

// ---------------------------------------------------------------------------------------------------------
// Approximation of PostgreSQL's english full-text search (to_tsvector/ts_rank, OR query)

/** Snowball's English stopword list, which PostgreSQL's english dictionary uses. */
const PG_STOP = new Set(
  `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
  herself it its itself they them their theirs themselves what which who whom this that these those am is are
  was were be been being have has had having do does did doing a an the and but if or because as until while
  of at by for with about against between into through during before after above below to from up down in
  out on off over under again further then once here there when where why how all any both each few more most
  other some such no nor not only own same so than too very s t can will just don should now`.split(/\s+/),
);

function pgLexemes(text: string): string[] {
  const out: string[] = [];
  const re = /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu;
  for (const m of text.toLowerCase().matchAll(re)) {
    const parts = m[0].split('-');
    if (parts.length > 1) out.push(m[0]);
    for (const p of parts) if (!PG_STOP.has(p)) out.push(/^\p{L}+$/u.test(p) ? porterStem(p) : p);
  }
  return out;
}

class PgApprox {
  private readonly postings = new Map<string, Map<number, number>>();
  constructor(private readonly docs: readonly Doc[]) {
    docs.forEach((d, i) => {
      for (const lex of pgLexemes(d.text)) {
        let p = this.postings.get(lex);
        if (!p) this.postings.set(lex, (p = new Map()));
        p.set(i, (p.get(i) ?? 0) + 1);
      }
    });
  }

  /** ts_rank(vector, q) with calc_rank_or and all weights 0.1. */
  search(query: string, k: number): string[] {
    const lexemes = [...new Set(pgLexemes(query))];
    const scores = new Float64Array(this.docs.length);
    const w = 0.1;
    for (const lex of lexemes) {
      for (const [doc, tf] of this.postings.get(lex) ?? []) {
        let resj = 0;
        for (let j = 0; j < tf; j++) resj += w / ((j + 1) * (j + 1));
        scores[doc]! += (w + resj - w) / 1.64493406685;
      }
    }
    if (lexemes.length > 0) for (let i = 0; i < scores.length; i++) scores[i]! /= lexemes.length;
    return topK(
      scores,
      this.docs.map((d) => d.id),
      k,
      0,
    );
  }
}

function rrf(a: readonly string[], b: readonly string[], k = 60): string[] {
  const s = new Map<string, number>();
  a.forEach((d, i) => s.set(d, (s.get(d) ?? 0) + 1 / (k + i + 1)));
  b.forEach((d, i) => s.set(d, (s.get(d) ?? 0) + 1 / (k + i + 1)));
  return [...s].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([d]) => d);
}

// ---------------------------------------------------------------------------------------------------------

function chunks(docs: readonly Doc[], size: number): string[] {
  const out: string[] = [];
  for (const d of docs) {
    for (let i = 0; i + size / 2 <= d.text.length || i === 0; i += size) out.push(d.text.slice(i, i + size));
  }
  return out;
}

async function throughput(texts: readonly string[], dims: number | undefined, tuning: object) {
  const embedder = new LocalEmbedder({ dimensions: dims, tuning });
  const start = process.hrtime.bigint();
  for (let i = 0; i < texts.length; i += 64) await embedder.embed(texts.slice(i, i + 64));
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  const chars = texts.reduce((n, t) => n + t.length, 0);
  return { perSecond: texts.length / s, avgChars: chars / texts.length };
}

/**
 * In a child process: peak RSS of embedding every corpus text 3 times over (vectors dropped), against the RSS of
 * the same process before it imported the embedder.
 */
async function memoryChild(dir: string, dims: number | undefined, tuning: object): Promise<void> {
  const texts = readJsonl(join(dir, 'corpus.jsonl')).map((d) => `${String(d.title)} ${String(d.text)}`);
  const before = process.memoryUsage().rss;
  const { LocalEmbedder: Fresh } = await import('../src/infrastructure/embeddings/local-embedder.js');
  const embedder = new Fresh({ dimensions: dims, tuning });
  let peak = process.memoryUsage().rss;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < texts.length; i += 64) {
      await embedder.embed(texts.slice(i, i + 64));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  console.log(JSON.stringify({ before, peak }));
}

function measureMemory(dir: string, dims: number | undefined, tuning: object): string {
  const argv = [
    ...process.execArgv,
    process.argv[1]!,
    dir,
    '--memory-child',
    '--tune',
    JSON.stringify(tuning),
  ];
  if (dims) argv.push('--dims', String(dims));
  const child = spawnSync(process.execPath, argv, { encoding: 'utf8' });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    const { before, peak } = JSON.parse(line) as { before: number; peak: number };
    const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
    return `embedder memory (child process, corpus embedded 3×): +${mb(peak - before)} peak RSS over ${mb(before)} (node, tsx, corpus texts)`;
  } catch {
    return `embedder memory: child failed: ${child.stderr.slice(0, 500)}`;
  }
}

async function main(): Promise<void> {
  const { dir, dims, tuning, speed, memoryOnly, proxy } = args();
  if (memoryOnly) return memoryChild(dir, dims, tuning);
  const beir = readBeir(dir, { proxy });
  const docs: Doc[] = beir.corpus.map((d) => ({ id: d._id, text: `${d.title ?? ''} ${d.text ?? ''}` }));
  const { queries, qrels } = beir;

  const embedder = new LocalEmbedder({ dimensions: dims, tuning });
  const D = embedder.dimensions;
  const t0 = process.hrtime.bigint();
  const docVecs = await embedder.embed(docs.map((d) => d.text));
  const embedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const matrix = new Float32Array(docs.length * D);
  docVecs.forEach((v, i) => matrix.set(v, i * D));
  const ids = docs.map((d) => d.id);
  const pg = new PgApprox(docs);

  const vectorRuns = new Map<string, string[]>();
  const pgRuns = new Map<string, string[]>();
  const hybridRuns = new Map<string, string[]>();
  for (const qid of qrels.keys()) {
    const text = queries.get(qid) ?? '';
    const [q] = await embedder.embed([text]);
    const scores = new Float32Array(docs.length);
    for (let i = 0; i < docs.length; i++) {
      let s = 0;
      const off = i * D;
      for (let j = 0; j < D; j++) s += matrix[off + j]! * q![j]!;
      scores[i] = s;
    }
    const v = topK(scores, ids, 100);
    const p = pg.search(text, 100);
    vectorRuns.set(qid, v);
    pgRuns.set(qid, p);
    hybridRuns.set(qid, rrf(v, p).slice(0, 100));
  }
  const vec = evaluate(vectorRuns, qrels);
  const pgm = evaluate(pgRuns, qrels);
  const hyb = evaluate(hybridRuns, qrels);
  const f = (x: number) => x.toFixed(4);
  const set = proxy ? 'held-out sentences (development set)' : 'test queries';
  console.log(`space ${embedder.space}  (${qrels.size} ${set}, ${docs.length} documents)`);
  console.log(`vector         nDCG@10 ${f(vec.ndcg10)}  recall@100 ${f(vec.recall100)}`);
  console.log(`pg~  (approx.) nDCG@10 ${f(pgm.ndcg10)}  recall@100 ${f(pgm.recall100)}`);
  console.log(`hybrid~ RRF60  nDCG@10 ${f(hyb.ndcg10)}  recall@100 ${f(hyb.recall100)}`);
  console.log(
    `throughput (1 core, cold caches, first pass over the corpus): ${(docs.length / embedSeconds).toFixed(0)} documents/s`,
  );
  if (speed) {
    const docsT = await throughput(
      docs.map((d) => d.text),
      dims,
      tuning,
    );
    const chunkT = await throughput(chunks(docs, 1200), dims, tuning);
    console.log(
      `throughput (1 core, warm caches): documents ${docsT.perSecond.toFixed(0)}/s (avg ${docsT.avgChars.toFixed(0)} chars), ` +
        `chunks ${chunkT.perSecond.toFixed(0)}/s (avg ${chunkT.avgChars.toFixed(0)} chars)`,
    );
  }
  if (speed) console.log(measureMemory(dir, dims, tuning));
  console.log(
    `peak RSS of this whole process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB ` +
      `(node, tsx, corpus, vectors, pg~ index, runs)`,
  );
}

await main();
