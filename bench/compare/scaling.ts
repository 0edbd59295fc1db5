/**
 * The scaling table (issue 13): at each size, chunks made from the SciFact seed (generatedChunks) are COPYed
 * into docsvc's `chunks` table of a fresh database and its vector indexes built (docsvc's DDL and build memory);
 * then SciFact's queries are searched through docsvc's own ChunkSearch (the code behind POST /search, without
 * HTTP) in vector and hybrid mode; and the sizes of the table and its indexes are read. At the sizes of
 * --service-sizes, the service's own ingest (POST /documents → chunked, embedded, projected, indexed) is timed
 * too, on SciFact documents repeated with a copy number (each a new document, embedded anew). Each cost's growth
 * per 10× is (cost at N₂ ÷ cost at N₁)^(1 / log₁₀(N₂/N₁)) between neighbouring sizes.
 */
import { PgSqlClient } from '../../src/infrastructure/sql/pg-client.js';
import { chunksFromConfig } from '../../src/projections/chunks/chunks.config.js';
import { servedVersions } from '../../src/projections/chunks/search.module.js';
import type { SearchRequest } from '../../src/projections/chunks/search.schema.js';
import { buildVectorIndexes, copyChunks, freshChunksDatabase } from './chunk-copy.js';
import { generatedChunks, seedLines } from './generated-chunks.js';
import { scifactDir, type ScifactSeed } from './scifact-seed.js';
import { benchConfig, scifactDocuments, scifactQueries, Service } from './service.js';
import { arg, fmt, note, percentile, quick, type Report } from './support.js';

interface Row {
  size: number;
  copySeconds: number;
  hnswSeconds: number;
  tableMb: number;
  vectorIndexMb: number;
  otherIndexesMb: number;
  search: Record<'vector' | 'hybrid', { p50: number; p95: number; empty: number }>;
  service?: { chunks: number; seconds: number; maxRssMb: number };
}

const mb = (bytes: number) => bytes / 2 ** 20;
/** maintenance_work_mem of the HNSW build: docsvc's default (INDEX_BUILD_MEMORY_MB), unless given. */
const indexMemoryMb = () => Number(arg('index-memory-mb', '1024'));

async function searchTimes(url: string, queries: readonly string[]) {
  const sql = new PgSqlClient(url, 2);
  try {
    const search = servedVersions(chunksFromConfig(benchConfig(url)), sql)[0]!.search;
    const out = {} as Row['search'];
    for (const mode of ['vector', 'hybrid'] as const) {
      const ask = (query: string) =>
        search.search({ coachId: 'scifact', query, k: 10, mode } as SearchRequest, false);
      for (const q of queries.slice(0, 5)) await ask(q);
      const times: number[] = [];
      let empty = 0;
      for (const q of queries) {
        const t = performance.now();
        // The relevance floor (SEARCH_MIN_SIMILARITY's default) leaves off-topic queries empty, as in service.
        if ((await ask(q)).length === 0) empty++;
        times.push(performance.now() - t);
      }
      if (empty === queries.length) throw new Error(`${mode}: no query found anything`);
      out[mode] = { p50: percentile(times, 0.5), p95: percentile(times, 0.95), empty };
    }
    return out;
  } finally {
    await sql.close();
  }
}

async function sizes(url: string) {
  const sql = new PgSqlClient(url, 1);
  try {
    const { rows } = await sql.query<{ table: string; vec: string; all: string }>(
      `SELECT pg_table_size('chunks')::text AS table, pg_indexes_size('chunks')::text AS all,
              (SELECT coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_stat_user_indexes
                WHERE relname = 'chunks' AND indexrelname LIKE 'chunks_vec_%')::text AS vec`,
    );
    const r = rows[0]!;
    return {
      tableMb: mb(Number(r.table)),
      vectorIndexMb: mb(Number(r.vec)),
      otherIndexesMb: mb(Number(r.all) - Number(r.vec)),
    };
  } finally {
    await sql.close();
  }
}

async function copyPath(server: string, seed: readonly string[], size: number, queries: readonly string[]) {
  const db = await freshChunksDatabase(server, `scale${size}`);
  try {
    note(`${fmt(size)} chunks: COPY`);
    const copy = await copyChunks(db.url, generatedChunks(seed, size));
    if (copy.rows !== size) throw new Error(`COPY loaded ${copy.rows} rows of ${size}`);
    note(`${fmt(size)} chunks: HNSW build`);
    const hnswSeconds = await buildVectorIndexes(db.url, indexMemoryMb());
    const sql = new PgSqlClient(db.url, 1);
    await sql.exec('VACUUM ANALYZE chunks').finally(() => sql.close());
    note(`${fmt(size)} chunks: ${queries.length} queries per mode`);
    return {
      copySeconds: copy.seconds,
      hnswSeconds,
      ...(await sizes(db.url)),
      search: await searchTimes(db.url, queries),
    };
  } finally {
    await db.drop();
  }
}

/** The service's ingest of about `size` chunks of SciFact documents, each pass over the corpus numbered. */
async function servicePath(server: string, seed: ScifactSeed, size: number) {
  const corpus = scifactDocuments(scifactDir(), quick ? 400 : 0);
  const count = Math.ceil((size * seed.documents) / seed.chunks);
  const docs = Array.from({ length: count }, (_, i) => {
    const d = corpus[i % corpus.length]!;
    const pass = Math.floor(i / corpus.length);
    return pass === 0 ? d : { title: `${d.title} (${pass})`, content: `${d.content} (copy ${pass})` };
  });
  const db = await freshChunksDatabase(server, `svc${size}`);
  let service: Service | undefined;
  try {
    service = await Service.start(db.url);
    note(`${fmt(size)} chunks: service ingest of ${fmt(count)} documents`);
    const seconds = await service.ingest(docs, 'scifact');
    const { rows } = await service.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks');
    return { chunks: rows[0]!.n, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  } finally {
    await service?.close();
    await db.drop();
  }
}

const growth = (a: number, b: number, sa: number, sb: number) =>
  `${fmt((b / a) ** (1 / Math.log10(sb / sa)), 1)}×`;

export async function scalingSection(report: Report, server: string, seed: ScifactSeed): Promise<void> {
  const list = arg('sizes', quick ? '1000,10000' : '10000,100000')
    .split(',')
    .map(Number);
  const serviceSizes = arg('service-sizes', quick ? '1000' : '10000')
    .split(',')
    .map(Number);
  const queries = scifactQueries(scifactDir()).slice(0, quick ? 30 : 200);
  const lines = seedLines(await seed.rows());
  const rows: Row[] = [];
  for (const size of list) {
    const service = serviceSizes.includes(size) ? await servicePath(server, seed, size) : undefined;
    rows.push({ size, ...(await copyPath(server, lines, size, queries)), service });
    note(`${fmt(size)} chunks: ${JSON.stringify(rows.at(-1))}`);
  }
  const ms = (x: number) => `${fmt(x, 1)} ms`;
  const columns: Array<[string, (r: Row) => number | undefined, (x: number) => string]> = [
    [
      'service ingest, upload → searchable + indexed (chunks/s)',
      (r) => r.service && r.service.chunks / r.service.seconds,
      (x) => fmt(x),
    ],
    ['service process peak RSS (MB)', (r) => r.service?.maxRssMb, (x) => fmt(x)],
    ['COPY into `chunks` (chunks/s)', (r) => r.size / r.copySeconds, (x) => fmt(x)],
    ['HNSW build (s)', (r) => r.hnswSeconds, (x) => fmt(x, 1)],
    ['COPY + HNSW (chunks/s)', (r) => r.size / (r.copySeconds + r.hnswSeconds), (x) => fmt(x)],
    ['vector search p50', (r) => r.search.vector.p50, ms],
    ['vector search p95', (r) => r.search.vector.p95, ms],
    ['hybrid search p50', (r) => r.search.hybrid.p50, ms],
    ['hybrid search p95', (r) => r.search.hybrid.p95, ms],
    ['queries with no result above the floor: vector', (r) => r.search.vector.empty, (x) => fmt(x)],
    ['`chunks` heap + TOAST (MB)', (r) => r.tableMb, (x) => fmt(x)],
    ['HNSW indexes (MB)', (r) => r.vectorIndexMb, (x) => fmt(x)],
    ['other indexes (MB)', (r) => r.otherIndexesMb, (x) => fmt(x)],
  ];
  const head = [
    'measure',
    ...rows.map((r) => `${fmt(r.size)} chunks`),
    ...rows.slice(1).map((r, i) => `growth per 10× (${fmt(rows[i]!.size)} → ${fmt(r.size)})`),
  ];
  report.line(
    `Generated from the ${fmt(seed.chunks)} SciFact chunks (perturbed copies beyond them); ${queries.length} SciFact ` +
      `queries per mode through ChunkSearch, k = 10, after 5 warm-up queries; HNSW built with ` +
      `maintenance_work_mem ${fmt(indexMemoryMb())} MB. The service ingest rows are ` +
      `SciFact documents numbered per pass, uploaded 8 at a time.\n`,
  );
  report.table(
    head,
    columns.map(([label, of, show]) => [
      label,
      ...rows.map((r) => ((v) => (v === undefined ? '—' : show(v)))(of(r))),
      ...rows.slice(1).map((r, i) => {
        const [a, b] = [of(rows[i]!), of(r)];
        return a === undefined || b === undefined || a <= 0 ? '—' : growth(a, b, rows[i]!.size, r.size);
      }),
    ]),
  );
  for (const r of rows)
    if (r.service) report.line(`\nService ingest at ${fmt(r.size)}: ${fmt(r.service.chunks)} chunks made.`);
}
