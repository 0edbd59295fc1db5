import { readFileSync } from 'node:fs';
import pg from 'pg';
import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { vectorSql } from '../../src/projections/chunks/embedding-cache.js';
const url = process.argv[2]!;
const dir = '../shared/eval/scifact';
const client = new pg.Client({ connectionString: url });
await client.connect();
const rj = (f: string) => readFileSync(`${dir}/${f}`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const corpus = rj('corpus.jsonl');
const byContent = new Map<string, string[]>();
for (const d of corpus) { const k = (d.text.trim() || d.title || d._id); byContent.set(k, [...(byContent.get(k) ?? []), d._id]); }
const docs = await client.query('SELECT document_id::text AS id, content FROM documents');
const idsOf = new Map<string, string[]>(docs.rows.map((r) => [r.id, byContent.get(r.content) ?? []]));
const queries = new Map(rj('queries.jsonl').map((q: any) => [q._id, q.text]));
const qrels = new Map<string, Map<string, number>>();
for (const line of readFileSync(`${dir}/qrels/test.tsv`, 'utf8').split('\n').slice(1)) { const [q, d, s] = line.split('\t'); if (!q || !d) continue; if (!qrels.has(q)) qrels.set(q, new Map()); qrels.get(q)!.set(d, Number(s)); }
const emb = new LocalEmbedder();
const ndcg = (ranked: string[], rels: Map<string, number>) => { const dcg = ranked.slice(0, 10).reduce((s, d, i) => s + ((rels.get(d) ?? 0) > 0 ? 1 / Math.log2(i + 2) : 0), 0); const ideal = Math.min(10, rels.size); let idcg = 0; for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2); return dcg / idcg; };
const toDocs = (rows: { document_id: string }[]) => { const out: string[] = []; for (const r of rows) for (const c of idsOf.get(r.document_id) ?? []) if (!out.includes(c)) out.push(c); return out; };
const N = Number((await client.query('SELECT count(*) n FROM chunks WHERE is_current')).rows[0].n);
const avgl = Number((await client.query(`SELECT avg((SELECT sum(coalesce(array_length(positions,1),1)) FROM unnest(tsv))) a FROM chunks WHERE is_current`)).rows[0].a);
const bm25 = `WITH lex AS (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', $1))) AS lexeme),
  q AS (SELECT lexeme, ln(1 + (${N} - df + 0.5) / (df + 0.5)) AS idf FROM (SELECT lexeme, (SELECT count(*) FROM chunks c WHERE c.is_current AND c.tsv @@ lexeme::tsquery) AS df FROM lex) d WHERE df > 0),
  cand AS (SELECT c.id, c.document_id::text, c.tsv FROM chunks c WHERE c.is_current AND c.tsv @@ (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM q))
  SELECT cand.id, cand.document_id, sum(q.idf * (u.tf * 2.2) / (u.tf + 1.2 * (0.25 + 0.75 * l.len / ${avgl}))) AS s
  FROM cand CROSS JOIN LATERAL (SELECT sum(coalesce(array_length(positions,1),1)) AS len FROM unnest(cand.tsv)) l
  CROSS JOIN LATERAL (SELECT lexeme, coalesce(array_length(positions,1),1) AS tf FROM unnest(cand.tsv)) u JOIN q USING (lexeme)
  GROUP BY cand.id, cand.document_id ORDER BY s DESC, cand.id LIMIT 200`;
const results: Record<string, number> = {};
const add = (k: string, v: number) => (results[k] = (results[k] ?? 0) + v);
let t0 = performance.now(); let tq = 0;
for (const [qid, rels] of qrels) {
  const query = queries.get(qid)!;
  const [v] = await emb.embed([query]);
  const vec = (await client.query(`SELECT document_id::text, id FROM chunks c WHERE is_current ORDER BY embedding::vector(512) <=> $1::vector(512) LIMIT 200`, [vectorSql(v!)])).rows;
  const s = performance.now();
  const t = (await client.query(bm25, [query])).rows;
  tq += performance.now() - s;
  add('vector', ndcg(toDocs(vec), rels));
  add('bm25', ndcg(toDocs(t), rels));
  for (const [wv, wt] of [[1, 1], [1, 1.5], [1, 2], [1,3]]) for (const depth of [50, 100, 200]) {
    const f = new Map<string, { r: any; s: number }>();
    vec.slice(0, depth).forEach((r, i) => { const e = f.get(r.id) ?? { r, s: 0 }; e.s += wv / (60 + i + 1); f.set(r.id, e); });
    t.slice(0, depth).forEach((r, i) => { const e = f.get(r.id) ?? { r, s: 0 }; e.s += wt / (60 + i + 1); f.set(r.id, e); });
    add(`hybrid-w${wv}:${wt}-d${depth}`, ndcg(toDocs([...f.values()].sort((a, b) => b.s - a.s).map((e) => e.r)), rels));
  }
}
const n = qrels.size;
console.log('bm25 avg ms', (tq / n).toFixed(1), 'N', N, 'avgl', avgl);
for (const [k, v] of Object.entries(results).sort((a, b) => b[1] - a[1])) console.log(k, (v / n).toFixed(4));
await client.end();
