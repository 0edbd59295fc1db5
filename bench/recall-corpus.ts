/**
 * A quick database for `bench/vector-recall.ts`: the speed bench's corpus (bench/corpus.ts, coach `main`),
 * chunked and embedded in-process with the local embedder and loaded straight into a narrow `chunks` table
 * (id, coach, space, chunker, tags, embedding), without the service: ~2 minutes for 100,000 chunks instead of
 * the full ingest. The same generator in the same order gives the same chunks as search-speed.ts's coach `main`.
 * Run: npx tsx bench/recall-corpus.ts --database-url postgres://…/postgres --name recall_exp [--chunks 100000]
 * (drops and creates database `name`; then: npx tsx bench/vector-recall.ts --database-url postgres://…/recall_exp).
 */
import pg from 'pg';
import { markdownSections } from '../src/commands/documents/snapshot.js';
import { LocalEmbedder } from '../src/infrastructure/embeddings/local-embedder.js';
import { VectorArray } from '../src/infrastructure/sql/vector-array.js';
import { chunkerVersion, chunkText, DEFAULT_CHUNKER_CONFIG } from '../src/projections/chunks/chunker.js';
import { embeddingText } from '../src/projections/chunks/chunk-preparation.js';
import { makeDoc } from './corpus.js';
import { arg } from './support.js';

const serverUrl = arg('database-url', 'postgres://postgres@127.0.0.1:5432/postgres');
const name = arg('name', 'recall_exp');
const total = Number(arg('chunks', '100000'));
if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`--name: a plain database name, not ${name}`);

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${name}`);
await admin.query(`CREATE DATABASE ${name}`);
await admin.end();
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const db = new pg.Client({ connectionString: url.toString() });
await db.connect();
const embedder = new LocalEmbedder();
await db.query('CREATE EXTENSION vector');
await db.query(`CREATE TABLE chunks (id bigserial PRIMARY KEY, coach_id text, is_current boolean, space text,
  chunker text, tags text[], embedding vector(${embedder.dimensions}))`);
// vector[] goes as text here: this client is node-postgres itself, not the service's SQL port.
let [pending, tags, loaded]: [Float32Array[], string[], number] = [[], [], 0];
const flush = async () => {
  await db.query(
    `INSERT INTO chunks (coach_id, is_current, space, chunker, tags, embedding)
     SELECT 'main', true, $1, $2, string_to_array(t, ','), e FROM unnest($3::text[], $4::vector[]) AS u(t, e)`,
    [embedder.space, chunkerVersion(DEFAULT_CHUNKER_CONFIG), tags, new VectorArray(pending).text()],
  );
  loaded += pending.length;
  [pending, tags] = [[], []];
};
while (loaded + pending.length < total) {
  const d = makeDoc('main');
  const texts = chunkText({ content: d.content, sections: markdownSections(d.content) }).map((c) =>
    embeddingText(d.title, c),
  );
  for (const v of await embedder.embed(texts)) {
    pending.push(v);
    tags.push(d.metadata.tags.join(','));
  }
  if (pending.length >= 2_000) await flush();
}
if (pending.length) await flush();
await db.query('VACUUM ANALYZE chunks');
console.log(`database ${name}: ${loaded} chunks of ${embedder.space}`);
await db.end();
