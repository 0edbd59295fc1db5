/**
 * The LangChain.js peer, in its own process (so that its peak memory is its own): PGVectorStore from
 * @langchain/community over the same chunk texts and the same deterministic embedder as docsvc, driven by
 * bench/compare/compare.ts through IPC messages (ingest, search, stop).
 *
 * Two set-ups:
 * - `guide`: as the integration's guide sets it up (PGVectorStore.initialize with table and column names and
 *   cosine distance, no dimensions: an untyped `vector` column; addDocuments; then createHnswIndex with the
 *   dimensions and its default m 16 / ef_construction 64).
 * - `best`: a typed vector(N) column (`dimensions`), batches of 500 chunks by two concurrent writers, the HNSW
 *   index built after the load with docsvc's parameters (m 24, ef_construction 160, 1 GB maintenance_work_mem)
 *   and searched with docsvc's ef_search (500), so both sides search the same kind of graph as hard.
 */
import { Embeddings } from '@langchain/core/embeddings';
import { Document } from '@langchain/core/documents';
import { PGVectorStore } from '@langchain/community/vectorstores/pgvector';
import { LocalEmbedder } from '../../src/infrastructure/embeddings/local-embedder.js';
import { DEFAULT_VECTOR_INDEX } from '../../src/projections/chunks/vector-index.js';
import { chunkTextsOf, loadCorpus, multiply } from './corpus.js';

/** Where the worker reads the corpus itself (as an application would), the same way the harness does. */
export interface CorpusSource {
  dir: string;
  limit: number;
  copies: number;
}

export type Variant = 'guide' | 'best';
export type Request =
  | { cmd: 'ingest'; variant: Variant; url: string; source: CorpusSource }
  | { cmd: 'search'; query: string; k: number }
  | { cmd: 'stop' };
export interface IngestResult {
  chunks: number;
  searchableMs: number;
  indexedMs: number;
  table: string;
}

/** docsvc's local embedder behind LangChain's Embeddings interface. */
class LocalEmbeddings extends Embeddings {
  private readonly embedder = new LocalEmbedder();
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return (await this.embedder.embed(texts)).map((v) => Array.from(v));
  }
  async embedQuery(text: string): Promise<number[]> {
    return Array.from((await this.embedder.embed([text]))[0]!);
  }
}

const DIMENSIONS = new LocalEmbedder().dimensions;
const BATCH = 500;
let store: PGVectorStore | undefined;

async function ingest(variant: Variant, url: string, source: CorpusSource): Promise<IngestResult> {
  const docs = multiply(loadCorpus(source.dir, source.limit), source.copies);
  const started = performance.now();
  const hnsw = DEFAULT_VECTOR_INDEX.kind === 'hnsw' ? DEFAULT_VECTOR_INDEX : undefined;
  const best = variant === 'best';
  const table = `langchain_${variant}`;
  store = await PGVectorStore.initialize(new LocalEmbeddings({}), {
    postgresConnectionOptions: {
      connectionString: url,
      ...(best
        ? { options: `-c maintenance_work_mem=1GB -c hnsw.ef_search=${hnsw?.efSearch ?? 40}`, max: 4 }
        : {}),
    },
    tableName: table,
    columns: {
      idColumnName: 'id',
      vectorColumnName: 'embedding',
      contentColumnName: 'text',
      metadataColumnName: 'metadata',
    },
    distanceStrategy: 'cosine',
    ...(best ? { dimensions: DIMENSIONS } : {}),
  });
  // What a LangChain application does: split each document (with docsvc's chunker, so the texts are the same)
  // and hand the chunks to the store, which embeds and inserts them 500 rows per statement.
  const chunks = docs.flatMap((d, docIndex) =>
    chunkTextsOf(d).map(
      (text, chunkIndex) => new Document({ pageContent: text, metadata: { docIndex, chunkIndex } }),
    ),
  );
  if (best) {
    let next = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < chunks.length) {
          const batch = chunks.slice(next, (next += BATCH));
          await store!.addDocuments(batch);
        }
      }),
    );
  } else {
    for (let i = 0; i < chunks.length; i += BATCH) await store.addDocuments(chunks.slice(i, i + BATCH));
  }
  const searchableMs = performance.now() - started;
  await store.createHnswIndex(
    best && hnsw
      ? { dimensions: DIMENSIONS, m: hnsw.m, efConstruction: hnsw.efConstruction }
      : { dimensions: DIMENSIONS },
  );
  const indexedMs = performance.now() - started;
  return { chunks: chunks.length, searchableMs, indexedMs, table };
}

async function search(query: string, k: number): Promise<{ ms: number; distances: number[] }> {
  const started = performance.now();
  const hits = await store!.similaritySearchWithScore(query, k);
  return { ms: performance.now() - started, distances: hits.map(([, d]) => d) };
}

process.on('message', (raw) => {
  const request = raw as Request;
  const reply = (body: unknown) => process.send!({ ok: true, body });
  const fail = (e: unknown) => process.send!({ ok: false, error: (e as Error).stack ?? String(e) });
  if (request.cmd === 'ingest') ingest(request.variant, request.url, request.source).then(reply, fail);
  else if (request.cmd === 'search') search(request.query, request.k).then(reply, fail);
  else
    void (async () => {
      await store?.end();
      reply({ maxRssMb: process.resourceUsage().maxRSS / 1024 });
      process.disconnect();
    })();
});
// The harness has gone (it failed or was stopped): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
