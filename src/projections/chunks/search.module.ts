import { Module, type DynamicModule } from '@nestjs/common';
import type { Embedder } from '../../infrastructure/embeddings/embedder.js';
import { SQL_CLIENT, type SqlClient } from '../../infrastructure/sql/sql-client.js';
import type { Projection } from '../projection.js';
import { ChunkSearch } from './search.js';
import { SearchController } from './search.controller.js';
import { CHUNK_SEARCH, CHUNKS_PROJECTION, SearchHandler } from './search.query.js';
import type { VectorIndexConfig } from './vector-index.js';

/** POST /search over the chunks read model of this process's embedding and chunker configuration. */
@Module({})
export class SearchModule {
  static forRoot(
    chunks: Projection & { space: string; chunker: string },
    embedder: Embedder,
    index: VectorIndexConfig,
    hybridTextWeight: number,
  ): DynamicModule {
    return {
      module: SearchModule,
      controllers: [SearchController],
      providers: [
        { provide: CHUNKS_PROJECTION, useValue: chunks },
        {
          provide: CHUNK_SEARCH,
          inject: [SQL_CLIENT],
          useFactory: (sql: SqlClient) =>
            new ChunkSearch(sql, embedder, {
              space: chunks.space,
              chunker: chunks.chunker,
              dimensions: embedder.dimensions,
              index,
              hybridTextWeight,
            }),
        },
        SearchHandler,
      ],
    };
  }
}
