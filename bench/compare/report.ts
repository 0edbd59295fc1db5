/** The markdown report of a comparison run, and the checks that make it fail. */
import { cpus, totalmem } from 'node:os';
import type { Ingest } from './peers.js';
import { fmt, mean, median, percentile } from './measure.js';
import type { SearchFigures } from './search-phase.js';

export interface RunInfo {
  dir: string;
  docs: number;
  chunks: number;
  copies: number;
  rounds: number;
  queries: number;
  clients: number;
  csvRows: number;
  csvAvailable: boolean;
  peers: string[];
  server: string;
  command: string;
}

const PEERS: Record<string, string> = {
  'docsvc-json': 'docsvc, `POST /documents` (JSON), one document per request',
  'docsvc-csv': 'docsvc, `POST /imports/csv`',
  'langchain-guide': 'LangChain PGVectorStore as its guide sets it up',
  'langchain-best': 'LangChain PGVectorStore at its best',
};

const SEARCHES: Record<string, string> = {
  'docsvc-vector': 'docsvc `POST /search` mode vector',
  'docsvc-hybrid': 'docsvc `POST /search` mode hybrid',
  'docsvc-text': 'docsvc `POST /search` mode text',
  'docsvc-sql': 'docsvc’s own vector SQL sent bare (vector given, from the client)',
  'bare-hnsw': 'bare HNSW SQL on docsvc’s chunks table (vector given, from the client)',
  'query-embedding': 'embedding the query (local embedder, in process)',
  'langchain-guide': 'LangChain (guide) `similaritySearchWithScore`',
  'langchain-best': 'LangChain (best) `similaritySearchWithScore`',
};

function ingestTable(info: RunInfo, ingests: Ingest[]): string[] {
  const lines = [
    '| peer | docs/s to searchable | chunks/s to searchable | docs/s to indexed | chunks/s to indexed | to searchable | to indexed | peak RSS, app | peak RSS, PG backends | database size |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [peer, label] of Object.entries(PEERS)) {
    const runs = ingests.filter((i) => i.peer === peer);
    if (!runs.length) {
      if (peer === 'docsvc-csv' && !info.csvAvailable)
        lines.push(`| ${label} | bulk path not available | | | | | | | | |`);
      continue;
    }
    const s = median(runs.map((i) => i.searchableMs)) / 1000;
    const x = median(runs.map((i) => i.indexedMs)) / 1000;
    lines.push(
      `| ${label} | ${fmt(info.docs / s)} | ${fmt(info.chunks / s)} | ${fmt(info.docs / x)} | ${fmt(info.chunks / x)} | ` +
        `${fmt(s, 1)} s | ${fmt(x, 1)} s${runs.some((i) => i.indexBuilt === false) ? ' (no index: exact search)' : ''} | ` +
        `${fmt(median(runs.map((i) => i.appRssMb)))} MB | ` +
        `${fmt(median(runs.map((i) => i.backendMb)))} MB | ${fmt(median(runs.map((i) => i.dbMb)))} MB |`,
    );
  }
  return lines;
}

function searchTable(figures: SearchFigures): string[] {
  const lines = [
    '| search (k = 10) | p50 | p95 | recall@10 vs exact | index scan |',
    '|---|---:|---:|---:|---|',
  ];
  for (const [name, label] of Object.entries(SEARCHES)) {
    const s = figures[name];
    if (!s) continue;
    const recall = s.recall.length ? fmt(mean(s.recall), 3) : '–';
    const index = s.indexUsed === undefined ? '' : s.indexUsed ? 'yes' : 'no (exact scan)';
    lines.push(
      `| ${label} | ${fmt(percentile(s.ms, 0.5), 2)} ms | ${fmt(percentile(s.ms, 0.95), 2)} ms | ${recall} | ${index} |`,
    );
  }
  return lines;
}

function scaleTable(figures: SearchFigures): { lines: string[]; ratios: Array<[string, number]> } {
  const p50 = (name: string) => percentile(figures[name]?.ms ?? [], 0.5);
  const vector = p50('docsvc-vector');
  const bare = p50('bare-hnsw');
  const sum = vector + p50('docsvc-text');
  const hybrid = p50('docsvc-hybrid');
  const ratios: Array<[string, number]> = [
    ['vector p50 / bare HNSW p50', vector / bare],
    ['hybrid p50 / (vector p50 + text p50)', hybrid / sum],
  ];
  return {
    ratios,
    lines: [
      '| figure | docsvc | reference | ratio | target | met |',
      '|---|---:|---:|---:|---:|---|',
      `| vector p50 vs bare HNSW p50 (same ef_search, same table) | ${fmt(vector, 2)} ms | ${fmt(bare, 2)} ms | ${fmt(ratios[0]![1], 2)}× | ≤ 2× | ${ratios[0]![1] <= 2 ? 'yes' : 'no'} |`,
      `| hybrid p50 vs vector p50 + text p50 | ${fmt(hybrid, 2)} ms | ${fmt(sum, 2)} ms | ${fmt(ratios[1]![1], 2)}× | ≤ 2× | ${ratios[1]![1] <= 2 ? 'yes' : 'no'} |`,
    ],
  };
}

export function report(
  info: RunInfo,
  ingests: Ingest[],
  figures: SearchFigures,
  minRecall: number,
  plans: Record<string, string> = {},
): { markdown: string; failures: string[] } {
  const failures: string[] = [];
  for (const name of ['docsvc-vector', 'docsvc-sql', 'bare-hnsw', 'langchain-guide', 'langchain-best']) {
    const s = figures[name];
    if (!s?.recall.length) {
      if (!name.startsWith('langchain') || info.peers.includes(name))
        failures.push(`${name}: no search measured`);
    } else if (mean(s.recall) < minRecall)
      failures.push(`${name}: recall@10 ${mean(s.recall).toFixed(3)} < ${minRecall}`);
  }
  const cpu = cpus();
  const scale = scaleTable(figures);
  const markdown = [
    `### docsvc vs LangChain.js PGVectorStore — ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB; ${info.server}; Node ${process.version}. ` +
      `Command: \`${info.command}\`.`,
    '',
    `Corpus: ${fmt(info.docs)} documents (${info.dir}${info.copies > 1 ? `, ×${info.copies}: each copy a quarter of its words replaced` : ''}), ` +
      `${fmt(info.chunks)} chunks (docsvc's chunker; the same embedded texts on every side, SHA-256 checked), ` +
      `local embedder (512 dimensions) on both sides. ${info.rounds} round(s), peers interleaved; ingest figures are ` +
      `medians of the rounds, search latencies pooled over ${info.queries} queries × ${info.rounds} round(s).`,
    '',
    `docsvc: ${info.clients} concurrent clients; CSV files of ${info.csvRows} rows. "Searchable": a search with ` +
      '`minPosition` = the last write answers; "indexed": the HNSW index exists too (docsvc builds none under ' +
      '12,000 current chunks, VECTOR_INDEX_MIN_CHUNKS: every vector search there is exact). LangChain: searchable when ' +
      '`addDocuments` has returned, indexed when `createHnswIndex` has. RSS, app: the service process or the ' +
      "LangChain process (VmHWM); PG backends: peak of the sum of private memory (RssAnon) of the database's backends.",
    '',
    ...ingestTable(info, ingests),
    '',
    ...searchTable(figures),
    '',
    'Search at scale (docsvc against the bare query on its own table, and hybrid against its two halves):',
    '',
    ...scale.lines,
    '',
    ...(failures.length ? ['**Failed checks:**', ...failures.map((f) => `- ${f}`), ''] : []),
    ...Object.entries(plans).flatMap(([name, plan]) => [
      `<details><summary>EXPLAIN ANALYZE, ${name}, first query</summary>`,
      '',
      '```',
      plan.replace(/'\[[-0-9.e,]+\]'/g, "'[…]'"),
      '```',
      '</details>',
      '',
    ]),
  ].join('\n');
  return { markdown, failures };
}
