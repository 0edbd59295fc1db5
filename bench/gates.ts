/**
 * Hybrid gates evaluated offline: may the hybrid return fewer results, or none, when the query is off-topic? The
 * rankings of bench/scifact.ts `--dump` (vector and text, k = 100, the service run without a floor; development
 * and off-topic queries) are cut at the vector floor, gated, fused with the service's own `fuse()` and judged.
 *
 * Gates (`t` a threshold on a text hit's coverage of the query):
 * - none: the service today (the floor on the vector side only);
 * - A: the hybrid returns nothing when no vector candidate passes the floor;
 * - B(t): a text hit that is not also a vector candidate above the floor is kept only if its coverage ≥ t;
 * - A+B(t): both;
 * - Q(t): the hybrid returns nothing when no vector candidate passes and no text hit has coverage ≥ t
 *   (otherwise the ungated hybrid).
 * Coverage: `terms` the share of the query's lexemes the chunk has; `idf` the same weighted by each lexeme's idf
 * (a lexeme no chunk has weighs most).
 *
 * Run: npx tsx bench/gates.ts dump.json [--floor 0.19] [--weight 20] [--thresholds 0.3,0.4,0.5]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { SqlClient } from '../src/infrastructure/sql/sql-client.js';
import { fuse } from '../src/projections/chunks/search.js';
import type { Ranked, Rankings } from './floors.js';
import { interval, judgeWith, mean } from './metrics.js';

interface Dump {
  qrels: Array<[string, Array<[string, number]>]>;
  corpusIdsOf: Array<[string, string[]]>;
  dev: { vector: Array<[string, Ranked]>; text: Array<[string, Ranked]> };
  off: { vector: Array<[string, Ranked]>; text: Array<[string, Ranked]> };
  /** Chunks in the corpus (BM25's N). */
  n: number;
  /** Query id → its lexemes with their document frequencies. */
  terms: Record<string, Array<[string, number]>>;
  /** Query id → text hit id → the query's lexemes the chunk has. */
  matched: Record<string, Record<string, string[]>>;
}

/** Writes the rankings and, for each query, its lexemes and those each text hit matches. */
export async function dumpGates(
  file: string,
  sql: SqlClient,
  d: {
    queries: Map<string, string>;
    qrels: Map<string, Map<string, number>>;
    corpusIdsOf: Map<string, string[]>;
    dev: Rankings;
    off: Rankings;
  },
) {
  const n = (await sql.query<{ n: number }>('SELECT sum(chunks)::int AS n FROM chunk_stats')).rows[0]!.n;
  const terms: Dump['terms'] = {};
  const matched: Dump['matched'] = {};
  for (const [qid, query] of d.queries) {
    const { rows } = await sql.query<{ lexeme: string; df: number }>(
      `SELECT q.lexeme, coalesce((SELECT sum(df) FROM chunk_lexemes l WHERE l.lexeme = q.lexeme), 0)::int AS df
       FROM (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', $1))) AS lexeme) q`,
      [query],
    );
    terms[qid] = rows.map((r) => [r.lexeme, r.df]);
    const hits = (d.dev.text.get(qid) ?? d.off.text.get(qid) ?? []).map((h) => h.id.split('/'));
    const m = await sql.query<{ id: string; matched: string[] }>(
      `SELECT c.document_id::text || '/' || c.version || '/' || c.chunk_index AS id,
         array(SELECT unnest(tsvector_to_array(c.tsv)) INTERSECT SELECT unnest($4::text[])) AS matched
       FROM unnest($1::uuid[], $2::int[], $3::int[]) AS h(document_id, version, chunk_index)
       JOIN chunks c USING (document_id, version, chunk_index)`,
      [
        hits.map((h) => h[0]),
        hits.map((h) => Number(h[1])),
        hits.map((h) => Number(h[2])),
        rows.map((r) => r.lexeme),
      ],
    );
    matched[qid] = Object.fromEntries(m.rows.map((r) => [r.id, r.matched]));
  }
  const entries = (r: Rankings) => ({ vector: [...r.vector], text: [...r.text] });
  const out: Dump = {
    qrels: [...d.qrels].map(([q, rels]) => [q, [...rels]]),
    corpusIdsOf: [...d.corpusIdsOf],
    dev: entries(d.dev),
    off: entries(d.off),
    n,
    terms,
    matched,
  };
  writeFileSync(file, JSON.stringify(out));
}

type Coverage = (qid: string, chunkId: string) => number;
type Gate = { name: string; apply: (vector: Ranked, text: Ranked, qid: string) => string[] };

const rows = (ranked: Ranked) =>
  ranked.map(({ id, score }) => ({ id, score }) as unknown as Parameters<typeof fuse>[0][0][0]);

function gates(cov: Record<string, Coverage>, thresholds: number[], weight: number): Gate[] {
  const fused = (v: Ranked, t: Ranked) => fuse([rows(v), rows(t)], 100, [1, weight]).map((h) => h.id);
  const list: Gate[] = [
    { name: 'none', apply: (v, t) => fused(v, t) },
    { name: 'A', apply: (v, t) => (v.length ? fused(v, t) : []) },
  ];
  for (const [kind, c] of Object.entries(cov))
    for (const th of thresholds) {
      const keep = (v: Ranked, t: Ranked, qid: string) => {
        const ids = new Set(v.map((h) => h.id));
        return t.filter((h) => ids.has(h.id) || c(qid, h.id) >= th);
      };
      list.push(
        { name: `B ${kind} ≥ ${th}`, apply: (v, t, q) => fused(v, keep(v, t, q)) },
        { name: `A+B ${kind} ≥ ${th}`, apply: (v, t, q) => (v.length ? fused(v, keep(v, t, q)) : []) },
        {
          name: `Q ${kind} ≥ ${th}`,
          apply: (v, t, q) => (v.length || t.some((h) => c(q, h.id) >= th) ? fused(v, t) : []),
        },
      );
    }
  return list;
}

function coverages(d: Dump): Record<string, Coverage> {
  const idf = (df: number) => Math.log(1 + (d.n - df + 0.5) / (df + 0.5));
  const share = (qid: string, chunkId: string, weigh: (df: number) => number) => {
    const terms = d.terms[qid]!;
    const has = new Set(d.matched[qid]![chunkId] ?? []);
    const total = terms.reduce((s, [, df]) => s + weigh(df), 0);
    return total ? terms.filter(([l]) => has.has(l)).reduce((s, [, df]) => s + weigh(df), 0) / total : 0;
  };
  return {
    terms: (q, c) => share(q, c, () => 1),
    idf: (q, c) => share(q, c, idf),
  };
}

function main() {
  const file = process.argv[2]!;
  const get = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1]! : fallback;
  };
  const floor = Number(get('floor', '0.19'));
  const weight = Number(get('weight', '20'));
  const thresholds = get('thresholds', '0.3,0.4,0.5,0.6').split(',').map(Number);
  const d = JSON.parse(readFileSync(file, 'utf8')) as Dump;
  const qrels = new Map(d.qrels.map(([q, r]) => [q, new Map(r)]));
  const corpusIdsOf = new Map(d.corpusIdsOf);
  const maps = (r: Dump['dev']) => ({ vector: new Map(r.vector), text: new Map(r.text) });
  const [dev, off] = [maps(d.dev), maps(d.off)];
  const cut = (r: Ranked) => r.filter((h) => h.score >= floor);
  const summary = (xs: number[]) => `${mean(xs).toFixed(4)} (${interval(xs)})`;
  console.log(
    `floor ${floor}, text weight ${weight}, ${qrels.size} judged queries, ${off.vector.size} off-topic\n`,
  );
  console.log(
    '| gate | hybrid nDCG@10 | hybrid recall@100 | judged queries empty | off-topic empty | off-topic mean results |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const gate of gates(coverages(d), thresholds, weight)) {
    const [ndcgs, recalls] = [[] as number[], [] as number[]];
    let devEmpty = 0;
    for (const [qid, rels] of qrels) {
      const ids = gate.apply(cut(dev.vector.get(qid)!), dev.text.get(qid)!, qid);
      if (!ids.length) devEmpty++;
      const [n, r] = judgeWith(
        corpusIdsOf,
        ids.map((id) => id.split('/')[0]!),
        rels,
      );
      ndcgs.push(n);
      recalls.push(r);
    }
    const offSizes = [...off.vector.keys()].map(
      (q) => gate.apply(cut(off.vector.get(q)!), off.text.get(q)!, q).length,
    );
    console.log(
      `| ${gate.name} | ${summary(ndcgs)} | ${summary(recalls)} | ${devEmpty} / ${qrels.size} | ` +
        `${offSizes.filter((s) => !s).length} / ${offSizes.length} | ${mean(offSizes).toFixed(1)} |`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) main();
