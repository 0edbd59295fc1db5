/**
 * The benchmark's corpora, identical for both peers: the SciFact documents (normalised as docsvc stores them,
 * duplicates of content dropped, since docsvc answers a second upload of the same text as a duplicate), and a
 * tenfold corpus made from them. Each chunk's text is docsvc's: its chunker, and the text its projection embeds
 * (title, then the chunk).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normaliseText } from '../../src/commands/documents/snapshot.js';
import { embeddingText } from '../../src/projections/chunks/chunk-preparation.js';
import { chunkText } from '../../src/projections/chunks/chunker.js';

export interface BenchDoc {
  title: string;
  content: string;
}

/** The first `limit` distinct documents of a BEIR corpus.jsonl (0: all). */
export function loadCorpus(dir: string, limit: number): BenchDoc[] {
  const seen = new Set<string>();
  const docs: BenchDoc[] = [];
  for (const line of readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const d = JSON.parse(line) as { _id: string; title?: string; text: string };
    const title = (d.title ?? '').trim() || d._id;
    const content = normaliseText(d.text.trim() || title);
    if (seen.has(content)) continue;
    seen.add(content);
    docs.push({ title, content });
    if (limit && docs.length >= limit) break;
  }
  return docs;
}

/** The test queries of queries.jsonl, at most `limit`. */
export function loadQueries(dir: string, limit: number): string[] {
  return readFileSync(join(dir, 'queries.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { text: string }).text)
    .slice(0, limit);
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `copies` versions of every document: the originals, then for each further copy every document with a quarter
 * of its words replaced by words drawn from the whole corpus (seeded by copy and document), so that the copies
 * are different texts with different vectors (near-duplicates would flatter neither side's index), not a suffix.
 */
export function multiply(docs: BenchDoc[], copies: number): BenchDoc[] {
  if (copies <= 1) return docs;
  const vocabulary = [
    ...new Set(docs.flatMap((d) => d.content.split(/\s+/)).filter((w) => /^[a-z]{4,}$/.test(w))),
  ];
  const out = [...docs];
  for (let c = 1; c < copies; c++) {
    docs.forEach((d, i) => {
      const rand = mulberry32(c * 1_000_003 + i);
      const content = d.content
        .split(' ')
        .map((w) => (rand() < 0.25 ? vocabulary[Math.floor(rand() * vocabulary.length)]! : w))
        .join(' ');
      out.push({ title: `${d.title} (${c + 1})`, content });
    });
  }
  return out;
}

/** The texts docsvc embeds for a document's chunks (format `text`: no sections). */
export function chunkTextsOf(doc: BenchDoc): string[] {
  return chunkText({ content: doc.content }).map((c) => embeddingText(doc.title, c));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The SHA-256 of every chunk's embedded text, sorted; throws if two chunks of the corpus are the same text. */
export function chunkHashes(docs: BenchDoc[]): string[] {
  const hashes = docs.flatMap((d) => chunkTextsOf(d).map(sha256)).sort();
  const dupes = hashes.filter((h, i) => i > 0 && hashes[i - 1] === h).length;
  if (dupes) throw new Error(`the corpus has ${dupes} chunks whose text another chunk has too`);
  return hashes;
}

/** One digest of a sorted list of hashes: two sides hold the same chunk texts when these are equal. */
export function digest(hashes: string[]): string {
  return sha256(hashes.join('\n'));
}
