/**
 * A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) as the benchmarks read it: the test queries
 * with their judgments, or, with `proxy` > 0, a development set built from the corpus alone that never touches
 * the test judgments (an inverse cloze task): for `proxy` documents of at least four sentences (chosen by a hash
 * of their ids) whose last sentence has at least eight words, that last sentence (in an abstract usually its
 * finding, the kind of statement SciFact's claims are) is taken out of the document's text and becomes a query
 * whose only relevant document is the one it came from.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BeirDocument {
  _id: string;
  title?: string;
  text: string;
}

export interface BeirSet {
  corpus: BeirDocument[];
  queries: Map<string, string>;
  /** Query id → document id → graded relevance. */
  qrels: Map<string, Map<string, number>>;
}

export function readBeir(dir: string, options: { proxy?: number; limit?: number } = {}): BeirSet {
  const readJsonl = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as BeirDocument);
  let corpus = readJsonl('corpus.jsonl');
  if (options.limit) corpus = corpus.slice(0, options.limit);
  if (options.proxy) return { corpus, ...heldOutSentences(corpus, options.proxy) };
  const queries = new Map(readJsonl('queries.jsonl').map((q) => [q._id, q.text]));
  const qrels = new Map<string, Map<string, number>>();
  for (const line of readFileSync(join(dir, 'qrels', 'test.tsv'), 'utf8')
    .split('\n')
    .slice(1)) {
    const [q, d, s] = line.trim().split('\t');
    if (!q || !d) continue;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(d, Number(s));
  }
  return { corpus, queries, qrels };
}

/** The inverse cloze development set; shortens the chosen documents' text in place. */
function heldOutSentences(corpus: BeirDocument[], n: number) {
  const queries = new Map<string, string>();
  const qrels = new Map<string, Map<string, number>>();
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');
  const byHash = [...corpus].sort((a, b) => hash(a._id).localeCompare(hash(b._id)));
  for (const d of byHash) {
    if (queries.size >= n) break;
    const sentences = d.text.trim().split(/(?<=[.!?])\s+(?=[A-Z])/);
    const last = sentences.at(-1)!;
    if (sentences.length < 4 || last.split(/\s+/).length < 8) continue;
    d.text = sentences.slice(0, -1).join(' ');
    queries.set(`held-out-${d._id}`, last);
    qrels.set(`held-out-${d._id}`, new Map([[d._id, 1]]));
  }
  return { queries, qrels };
}
