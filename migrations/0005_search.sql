-- Search (issue #4): chunks with their embeddings, the embedding cache, dead letters, the query cache.
-- `space` names the embedding space (provider, model, dimensions) and `chunker` the chunker configuration: chunks
-- of different configurations live side by side (a new configuration builds beside the live one). Vectors are
-- stored as untyped `vector`; the projection creates a partial HNSW (or IVFFlat) index over
-- `embedding::vector(<dimensions>)` for its own space, on current chunks only.
CREATE TABLE chunks (
  id               bigserial PRIMARY KEY,
  space            text NOT NULL,
  chunker          text NOT NULL,
  document_id      uuid NOT NULL,
  coach_id         text NOT NULL,
  version          int NOT NULL,
  chunk_index      int NOT NULL,
  title            text NOT NULL,
  content          text NOT NULL,
  start_char       int NOT NULL,
  end_char         int NOT NULL,
  section          text,
  page             int,
  access_tier      text NOT NULL,
  document_type    text NOT NULL,
  tags             text[] NOT NULL,
  publication_date text,
  metadata         jsonb NOT NULL,
  embedded_sha256  text NOT NULL,
  -- Validity: the chunk is part of the corpus from the event that made its version until the event that
  -- superseded, retired (or erased) it. `is_current` = no end yet.
  valid_from       text NOT NULL,
  valid_from_at    timestamptz NOT NULL,
  valid_to         text,
  valid_to_at      timestamptz,
  is_current       boolean NOT NULL,
  tsv              tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || content)) STORED,
  embedding        vector NOT NULL,
  UNIQUE (space, chunker, document_id, version, chunk_index)
);
CREATE INDEX chunks_current_coach ON chunks (space, chunker, coach_id) WHERE is_current;
CREATE INDEX chunks_document ON chunks (document_id, version);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv) WHERE is_current;
CREATE INDEX chunks_validity ON chunks (space, chunker, coach_id, valid_from_at);

-- Vectors of texts already embedded, by embedding space and the SHA-256 of the exact text embedded.
CREATE TABLE embedding_cache (
  space       text NOT NULL,
  text_sha256 text NOT NULL,
  embedding   vector NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (space, text_sha256)
);

-- Events an async projection could not apply for a reason that retrying cannot fix; it went on past them.
CREATE TABLE projection_dead_letters (
  projection  text NOT NULL,
  version     int NOT NULL,
  position    text NOT NULL,
  event_id    uuid NOT NULL,
  event_type  text NOT NULL,
  stream_id   text NOT NULL,
  error_code  text NOT NULL,
  error       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, version, event_id)
);

-- Search results by normalised request and the read model's position; entries expire.
CREATE TABLE rag_query_cache (
  cache_key   text PRIMARY KEY,
  coach_id    text NOT NULL,
  position    text,
  results     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
CREATE INDEX rag_query_cache_coach ON rag_query_cache (coach_id);
CREATE INDEX rag_query_cache_expires ON rag_query_cache (expires_at);
