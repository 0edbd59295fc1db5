import {
  CLOSE_DOCUMENT_SQL,
  CLOSE_EARLIER_VERSIONS_SQL,
  NEWER_VERSIONS_SQL,
} from '../../src/projections/chunks/chunk-lookups.js';
import { CACHED_VECTORS_SQL } from '../../src/projections/chunks/embedding-cache.js';
import {
  ACTIVE_WITH_SOURCES_SQL,
  COACHES_OF_DOCUMENTS_SQL,
} from '../../src/projections/documents/document-directory.js';
import { openTestDatabase, targets, type TestDatabase } from '../support/databases.js';

/** Scans in a plan: for each node that reads a relation, the relation and how (index name or 'Seq Scan'). */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Alias?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode, into: string[] = []): string[] {
  const relation = node.Alias ?? node['Relation Name'];
  if (node['Node Type'] === 'Bitmap Heap Scan') {
    // The indexes are those of its Bitmap Index Scans (under BitmapAnd/BitmapOr too).
    into.push(`${relation}: ${indexesOf(node).join(' + ')}`);
    return into;
  }
  if (node['Relation Name'] && node['Node Type'] !== 'ModifyTable')
    into.push(`${relation}: ${node['Index Name'] ?? node['Node Type']}`);
  for (const child of node.Plans ?? []) scans(child, into);
  return into;
}

function indexesOf(node: PlanNode): string[] {
  return [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(indexesOf)];
}

const DOCUMENTS = 20_000;
const CHUNKED = 5_000; // documents with chunks, 4 each
/** The id of document number `n` (an SQL expression), as `uuid(n)` makes it. */
const DOC = (n: string) => `('00000000-0000-4000-8000-' || lpad(${n}::text, 12, '0'))::uuid`;

/**
 * The hot lookups of an upload and of the chunks projection read their index on tables that have never been
 * analyzed, as after a bulk load (autovacuum off, or not yet run): the exact SQL the code runs, EXPLAINed with
 * the parameters it binds. Rows are of a realistic width (the planner weighs an index against the table's pages).
 */
describe.each(targets())('hot lookups on never-analyzed tables (%s)', (kind) => {
  let db: TestDatabase;
  const plan = async (sql: string, params: unknown[]) => {
    const { rows } = await db.client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    return scans(rows[0]!['QUERY PLAN'][0]!.Plan);
  };

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    await db.client.exec(`
      INSERT INTO documents (document_id, coach_id, status, version, title, content, source_sha256, created_at,
        created_by, updated_at, updated_by, position)
      SELECT ${DOC('i')}, 'coach', 'active', 1, 'title ' || i, repeat(md5(i::text), 30),
        encode(sha256(i::text::bytea), 'hex'), now(), 'x', now(), 'x', '1.' || i
      FROM generate_series(1, ${DOCUMENTS}) i`);
    await db.client.exec(`
      INSERT INTO chunks (space, chunker, document_id, coach_id, version, chunk_index, title, content, start_char,
        end_char, access_tier, document_type, tags, metadata, embedded_sha256, valid_from, valid_from_at, is_current,
        embedding)
      SELECT 's', 'c', ${DOC('d')}, 'coach', 1, k, 't', repeat(md5((d * 4 + k)::text), 20),
        0, 640, 'free', 'research', '{}', '{}', encode(sha256((d * 4 + k)::text::bytea), 'hex'), '1.1', now(), true,
        (SELECT array_agg(random())::vector FROM generate_series(1, 256))
      FROM generate_series(1, ${CHUNKED}) d, generate_series(0, 3) k`);
    await db.client.exec(`INSERT INTO embedding_cache (space, text_sha256, embedding)
      SELECT space, embedded_sha256, embedding FROM chunks`);
  }, 300_000);
  afterAll(() => db?.drop());

  it('starts from tables the planner has no statistics of', async () => {
    const { rows } = await db.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stats WHERE tablename IN ('documents', 'chunks', 'embedding_cache')`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("finds an upload's duplicate through the duplicates index, not through the coach's listing", async () => {
    const plan_ = await plan(ACTIVE_WITH_SOURCES_SQL, [['f'.repeat(64) + 'coach', 'e'.repeat(64) + 'coach']]);
    expect(plan_).toEqual(['documents: documents_duplicates']);
  });

  it('finds the coaches of documents by primary key', async () => {
    const plan_ = await plan(COACHES_OF_DOCUMENTS_SQL, [[uuid(7), uuid(8)]]);
    expect(plan_).toEqual(['documents: documents_pkey']);
  });

  it("closes, retires and checks a document's chunks through the document's index", async () => {
    const versions = JSON.stringify([{ document_id: uuid(7), version: 2, position: '9.1', at: new Date() }]);
    expect(await plan(CLOSE_EARLIER_VERSIONS_SQL, ['s', 'c', versions])).toEqual([
      'n: chunks_document_key',
      'c: chunks_pkey',
    ]);
    expect(await plan(NEWER_VERSIONS_SQL, ['s', 'c', versions])).toEqual(['n: chunks_document_key']);
    const retire = ['s', 'c', uuid(7), '9.1', new Date().toISOString()];
    expect(await plan(CLOSE_DOCUMENT_SQL, retire)).toEqual(['chunks: chunks_document_key']);
  });

  it('finds known vectors by hash in chunks, else in the cache by primary key', async () => {
    const params = ['s', ['a'.repeat(64), 'b'.repeat(64)]];
    expect(await plan(CACHED_VECTORS_SQL, params)).toEqual([
      'chunks: chunks_embedded',
      'embedding_cache: embedding_cache_pkey',
    ]);
  });
});

function uuid(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}
