/**
 * SciFact ingested once through docsvc (POST /documents → chunks projection → vector index), on a fresh database:
 * the rebuild comparison runs on it, and its chunk rows (with their vectors) seed the scaling table.
 */
import { exportChunks, freshChunksDatabase } from './chunk-copy.js';
import { scifactDocuments, Service } from './service.js';
import { arg, note, quick, type FreshDatabase } from './support.js';

export interface ScifactSeed {
  db: FreshDatabase;
  service: Service;
  documents: number;
  chunks: number;
  events: number;
  ingestSeconds: number;
  /** The chunk rows as COPY text (CHUNK_COLUMNS). */
  rows(): Promise<Buffer>;
  dispose(): Promise<void>;
}

export const scifactDir = (): string => arg('scifact', '/work/shared/eval/scifact');

export async function scifactSeed(server: string): Promise<ScifactSeed> {
  const docs = scifactDocuments(scifactDir(), quick ? 400 : 0);
  const db = await freshChunksDatabase(server, 'scifact');
  let service: Service | undefined;
  try {
    service = await Service.start(db.url);
    note(`ingesting ${docs.length} SciFact documents through POST /documents`);
    const ingestSeconds = await service.ingest(docs, 'scifact');
    const count = async (table: string) =>
      (await service!.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    await service.sql.exec('VACUUM ANALYZE');
    let rows: Promise<Buffer> | undefined;
    const s = service;
    return {
      db,
      service: s,
      documents: docs.length,
      chunks: await count('chunks'),
      events: await count('events'),
      ingestSeconds,
      rows: () => (rows ??= exportChunks(db.url)),
      async dispose() {
        await s.close();
        await db.drop();
      },
    };
  } catch (error) {
    await service?.close();
    await db.drop();
    throw error;
  }
}
