import { Module, type DynamicModule } from '@nestjs/common';
import { EMBEDDER, type Embedder } from '../../infrastructure/embeddings/embedder.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import { minSimilarityOf, type chunksFromConfig } from './chunks.config.js';
import { ChunkSearch } from './search.js';
import { SearchController } from './search.controller.js';
import { CHUNK_SEARCHES, SearchHandler, type ServedVersion } from './search.query.js';
import { SEARCH_READINESS_CHECKS, searchReadinessChecks } from './search-readiness.js';

type Chunks = ReturnType<typeof chunksFromConfig>;

/**
 * The chunks versions a process can search, from its configuration: its own first (queried with its EMBEDDER),
 * then the companion (with the embedder its recorded configuration names).
 */
export function servedVersions(chunks: Chunks, sql: SqlClient): ServedVersion[] {
  return [{ ...chunks }, ...(chunks.companion ? [chunks.companion] : [])].map(({ projection, embedder }) => ({
    projection,
    search: new ChunkSearch(sql, embedder, {
      space: projection.space,
      chunker: projection.chunker,
      dimensions: embedder.dimensions,
      index: chunks.index,
      hybridTextWeight: chunks.hybridTextWeight,
      // Per version: a companion's embedder may be of another provider, with another scale.
      minSimilarity: minSimilarityOf(embedder.space, chunks.minSimilarity),
      queryEmbeddingTimeoutMs: chunks.queryEmbeddingTimeoutMs,
    }),
  }));
}

/**
 * POST /search over the chunks read model: this process's configuration, and while a new configuration builds,
 * the live version it replaces (its companion), whichever is live.
 */
@Module({})
export class SearchModule {
  static forRoot(chunks: Chunks): DynamicModule {
    return {
      module: SearchModule,
      controllers: [SearchController],
      providers: [
        { provide: EMBEDDER, useValue: chunks.embedder },
        {
          provide: CHUNK_SEARCHES,
          inject: [SQL_CLIENT, EMBEDDER],
          useFactory: (sql: SqlClient, embedder: Embedder) => servedVersions({ ...chunks, embedder }, sql),
        },
        SearchHandler,
        {
          provide: SEARCH_READINESS_CHECKS,
          inject: [CHUNK_SEARCHES],
          useFactory: (versions: ServedVersion[]) => searchReadinessChecks(versions, chunks.indexMinChunks),
        },
      ],
      exports: [SEARCH_READINESS_CHECKS],
    };
  }
}
