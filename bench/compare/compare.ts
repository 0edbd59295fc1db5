/**
 * docsvc against LangChain.js PGVectorStore (@langchain/community) on the same PostgreSQL + pgvector, the same
 * corpus, chunk texts and deterministic embedder (checked: equal SHA-256 of every chunk's embedded text on each
 * side). Rounds interleave the peers; ingest figures are the median of the rounds, search latencies pooled.
 * Fails (non-zero exit) when a peer errors, a side's chunk texts differ, or an HNSW search's recall@10 is below
 * --min-recall.
 *
 * Run: npm run bench:compare -- [beirDir] [--quick] [--copies 10] [--rounds N] [--queries N] [--limit N]
 *      [--clients 4] [--csv-rows 500] [--min-recall 0.9] [--out file.md] [--keep]
 *      [--peers docsvc-json,docsvc-csv,langchain-guide,langchain-best] [--search-db name]
 * (beirDir defaults to ../shared/eval/scifact; BENCH_DATABASE_URL names the server, default postgres@127.0.0.1)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { chunkHashes, digest, loadCorpus, loadQueries, multiply } from './corpus.js';
import { startService, type Service } from './docsvc-side.js';
import { dropDatabase, serverInfo, urlOf } from './measure.js';
import { ingestDocsvc, ingestLangChain, type Ingest, type LangChainPeer } from './peers.js';
import { report, type RunInfo } from './report.js';
import { plans, searchRound, type SearchFigures } from './search-phase.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const quick = flag('quick');
const dir = argv[0] && !argv[0].startsWith('--') ? argv[0] : '../shared/eval/scifact';
if (!existsSync(`${dir}/corpus.jsonl`))
  throw new Error(`no ${dir}/corpus.jsonl: give the BEIR folder as argument`);
const copies = Number(arg('copies', '1'));
const limit = Number(arg('limit', quick ? '500' : '0'));
const rounds = Number(arg('rounds', quick || copies > 1 ? '1' : '2'));
const queryCount = Number(arg('queries', quick ? '50' : '300'));
const clients = Number(arg('clients', '4'));
const csvRows = Number(arg('csv-rows', '500'));
const minRecall = Number(arg('min-recall', '0.9'));
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const out = arg('out', `.bench-data/compare-${stamp}.md`);
const WARMUP = 5;
const ALL_PEERS = ['docsvc-json', 'docsvc-csv', 'langchain-guide', 'langchain-best'];
const peers = arg('peers', ALL_PEERS.join(',')).split(',');
if (peers.some((p) => !ALL_PEERS.includes(p)) || !peers.some((p) => p.startsWith('docsvc')))
  throw new Error(`--peers: some of ${ALL_PEERS.join(',')}, one docsvc at least`);

const docs = multiply(loadCorpus(dir, limit), copies);
const hashes = chunkHashes(docs);
const expected = digest(hashes);
const chunkCount = hashes.length;
const queries = loadQueries(dir, queryCount + WARMUP);
const server = await serverInfo();
console.error(
  `corpus: ${docs.length} documents, ${chunkCount} chunks; ${queries.length} queries; ${rounds} round(s)`,
);

const ingests: Ingest[] = [];
const figures: SearchFigures = {};
let csvAvailable = true;

async function round(r: number): Promise<void> {
  const db = (peer: string) => `bench_compare_${peer}`;
  const opened: Array<() => Promise<void>> = [];
  const langchain: Array<{ name: string; peer: LangChainPeer; sql: pg.Client; table: string }> = [];
  let json: { service: Service; sql: pg.Client } | undefined;
  const source = { dir, limit, copies };
  const steps: Record<string, () => Promise<void>> = {
    'docsvc-json': async () => {
      const d = await ingestDocsvc('json', db('docsvc'), docs, expected, { clients, csvRows });
      ingests.push(d!.ingest);
      json = d;
      opened.push(
        () => d!.service.stop(),
        () => d!.sql.end(),
      );
    },
    'docsvc-csv': async () => {
      const d = await ingestDocsvc('csv', db('docsvc_csv'), docs, expected, { clients, csvRows });
      if (!d) csvAvailable = false;
      else if (!peers.includes('docsvc-json')) {
        // No JSON-loaded service: the searches go to this one.
        ingests.push(d.ingest);
        json = d;
        opened.push(
          () => d.service.stop(),
          () => d.sql.end(),
        );
        return;
      } else {
        ingests.push(d.ingest);
        await d.service.stop();
        await d.sql.end();
      }
      if (!flag('keep')) await dropDatabase(db('docsvc_csv'));
    },
    ...Object.fromEntries(
      (['guide', 'best'] as const).map((variant) => [
        `langchain-${variant}`,
        async () => {
          const l = await ingestLangChain(variant, db(`lc_${variant}`), source, expected);
          const sql = new pg.Client({ connectionString: urlOf(db(`lc_${variant}`)) });
          await sql.connect();
          langchain.push({ name: variant, peer: l.peer, sql, table: l.table });
          // The worker's peak memory is read when it stops, after the searches.
          opened.push(async () => {
            ingests.push({ ...l.ingest, appRssMb: await l.peer.stop() });
            await sql.end();
          });
        },
      ]),
    ),
  };
  const order = Object.keys(steps).filter((p) => peers.includes(p));
  if (r % 2 === 1) order.reverse();
  try {
    for (const name of order) {
      console.error(`round ${r + 1}: ingest ${name}`);
      await steps[name]!();
    }
    if (!json) throw new Error('no docsvc service to search (the bulk path is not available)');
    console.error(`round ${r + 1}: searches`);
    await searchRound(
      { docsvcBase: json!.service.base, docsvcSql: json!.sql, langchain },
      queries,
      figures,
      WARMUP,
    );
  } finally {
    for (const close of opened) await close().catch((e) => console.error(e));
    if (!flag('keep'))
      for (const name of ['docsvc', 'docsvc_csv', 'lc_guide', 'lc_best']) await dropDatabase(db(name));
  }
}

/**
 * --search-db NAME: only the searches, on a database a run left (--keep, or a run stopped midway), with the
 * projector off so that nothing else runs during them.
 */
async function searchOnly(name: string): Promise<number> {
  const sql = new pg.Client({ connectionString: urlOf(name) });
  await sql.connect();
  const service = await startService(urlOf(name), { PROJECTOR_ENABLED: 'false' });
  try {
    const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE is_current');
    await searchRound({ docsvcBase: service.base, docsvcSql: sql, langchain: [] }, queries, figures, WARMUP);
    return rows[0]!.n;
  } finally {
    await service.stop();
    await sql.end();
  }
}

const searchDb = arg('search-db', '');
const searchedChunks = searchDb ? await searchOnly(searchDb) : undefined;
if (!searchDb) for (let r = 0; r < rounds; r++) await round(r);

const info: RunInfo = {
  dir,
  docs: searchDb ? 0 : docs.length,
  chunks: searchedChunks ?? chunkCount,
  copies,
  rounds,
  queries: queries.length - WARMUP,
  clients,
  csvRows,
  csvAvailable,
  peers: searchDb ? [] : peers,
  server,
  command: `npm run bench:compare -- ${argv.join(' ')}`.trim(),
};
const { markdown, failures } = report(info, ingests, figures, minRecall, plans);
console.log(markdown);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, markdown);
console.error(`written to ${out}`);
if (failures.length) {
  console.error(`FAILED:\n${failures.join('\n')}`);
  process.exit(1);
}
