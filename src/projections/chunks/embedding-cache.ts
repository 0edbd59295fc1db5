import { createHash } from 'node:crypto';
import pgvector from 'pgvector';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import type { SqlExecutor } from '../../infrastructure/sql/sql-client.js';

export function textSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Vectors by space and text hash: the hashes bound as an array, so that they are the primary key's condition (a
 * set-returning function's rows are guessed, and were joined with every vector of the space).
 */
export const CACHED_VECTORS_SQL = `SELECT text_sha256, embedding::text AS embedding FROM embedding_cache
  WHERE space = $1 AND text_sha256 = ANY ($2::text[])`;

/**
 * Embeds texts through the cache: a text whose SHA-256 already has a vector in this embedding space is never
 * sent to the embedder again — not by an edit that leaves a chunk unchanged, not by a rebuild. Reads happen
 * before the projector's transaction; new vectors are written inside it with the chunks that use them (the
 * chunks projection inserts them from its inserted rows), so they commit together.
 */
export class EmbeddingCache {
  constructor(private readonly embedder: Embedder) {}

  get space(): string {
    return this.embedder.space;
  }

  /** Vectors for `texts` (by index), with the ones that were not cached yet. */
  async embed(
    sql: SqlExecutor,
    texts: readonly string[],
  ): Promise<{ vectors: Float32Array[]; fresh: Fresh[] }> {
    const hashes = texts.map(textSha256);
    const cached = await this.lookup(sql, [...new Set(hashes)]);
    const missing = [...new Set(hashes.filter((h) => !cached.has(h)))];
    const textOf = new Map(hashes.map((h, i) => [h, texts[i]!]));
    const fresh: Fresh[] = [];
    if (missing.length > 0) {
      const vectors = await this.embedder.embed(missing.map((h) => textOf.get(h)!));
      missing.forEach((h, i) => {
        cached.set(h, vectors[i]!);
        fresh.push({ sha256: h, vector: vectors[i]! });
      });
    }
    return { vectors: hashes.map((h) => cached.get(h)!), fresh };
  }

  private async lookup(sql: SqlExecutor, hashes: string[]): Promise<Map<string, Float32Array>> {
    const found = new Map<string, Float32Array>();
    for (let i = 0; i < hashes.length; i += 1000) {
      const { rows } = await sql.query<{ text_sha256: string; embedding: string }>(CACHED_VECTORS_SQL, [
        this.space,
        hashes.slice(i, i + 1000),
      ]);
      for (const r of rows)
        found.set(r.text_sha256, Float32Array.from(pgvector.fromSql(r.embedding) as number[]));
    }
    return found;
  }
}

export interface Fresh {
  sha256: string;
  vector: Float32Array;
}
