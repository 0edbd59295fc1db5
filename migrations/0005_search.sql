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

-- Term statistics for BM25 ranking of the `text` side of search: for each configuration, coach and access tier,
-- how many current chunks contain each lexeme (df), how many current chunks there are and their total length
-- (in distinct lexemes). Kept by statement-level triggers with transition tables, so that a batch of chunks costs
-- one upsert per statement, not one per row. A free reader's ranking uses the free tier's statistics only, so
-- that premium documents cannot be probed through scores.
CREATE TABLE chunk_lexemes (
  space       text NOT NULL,
  chunker     text NOT NULL,
  coach_id    text NOT NULL,
  access_tier text NOT NULL,
  lexeme      text NOT NULL,
  df          int NOT NULL,
  PRIMARY KEY (space, chunker, coach_id, lexeme, access_tier)
);

CREATE INDEX chunk_lexemes_forgotten ON chunk_lexemes (space) WHERE df <= 0;

CREATE TABLE chunk_stats (
  space        text NOT NULL,
  chunker      text NOT NULL,
  coach_id     text NOT NULL,
  access_tier  text NOT NULL,
  chunks       int NOT NULL,
  total_length bigint NOT NULL,
  PRIMARY KEY (space, chunker, coach_id, access_tier)
);

-- One function per kind of statement (transition tables are visible only to their trigger's function).
CREATE FUNCTION chunks_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, 1 AS sign FROM added WHERE is_current)
  INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
  SELECT space, chunker, coach_id, access_tier, lexeme, sum(sign) FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme
  GROUP BY space, chunker, coach_id, access_tier, lexeme
  ON CONFLICT (space, chunker, coach_id, lexeme, access_tier) DO UPDATE SET df = chunk_lexemes.df + EXCLUDED.df;
  -- A lexeme no current chunk has any more is forgotten (after an erasure, its word must not stay behind).
  DELETE FROM chunk_lexemes WHERE df <= 0;
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, 1 AS sign FROM added WHERE is_current)
  INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
  SELECT space, chunker, coach_id, access_tier, sum(sign), sum(sign * length(tsv)) FROM changed
  GROUP BY space, chunker, coach_id, access_tier
  ON CONFLICT (space, chunker, coach_id, access_tier) DO UPDATE
    SET chunks = chunk_stats.chunks + EXCLUDED.chunks, total_length = chunk_stats.total_length + EXCLUDED.total_length;
  RETURN NULL;
END $$;

CREATE FUNCTION chunks_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT b.space, b.chunker, b.coach_id, b.access_tier, b.tsv, -1 AS sign FROM before b JOIN after a USING (id)
    WHERE b.is_current AND NOT a.is_current
    UNION ALL SELECT a.space, a.chunker, a.coach_id, a.access_tier, a.tsv, 1 FROM before b JOIN after a USING (id)
    WHERE a.is_current AND NOT b.is_current)
  INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
  SELECT space, chunker, coach_id, access_tier, lexeme, sum(sign) FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme
  GROUP BY space, chunker, coach_id, access_tier, lexeme
  ON CONFLICT (space, chunker, coach_id, lexeme, access_tier) DO UPDATE SET df = chunk_lexemes.df + EXCLUDED.df;
  -- A lexeme no current chunk has any more is forgotten (after an erasure, its word must not stay behind).
  DELETE FROM chunk_lexemes WHERE df <= 0;
  WITH changed AS (SELECT b.space, b.chunker, b.coach_id, b.access_tier, b.tsv, -1 AS sign FROM before b JOIN after a USING (id)
    WHERE b.is_current AND NOT a.is_current
    UNION ALL SELECT a.space, a.chunker, a.coach_id, a.access_tier, a.tsv, 1 FROM before b JOIN after a USING (id)
    WHERE a.is_current AND NOT b.is_current)
  INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
  SELECT space, chunker, coach_id, access_tier, sum(sign), sum(sign * length(tsv)) FROM changed
  GROUP BY space, chunker, coach_id, access_tier
  ON CONFLICT (space, chunker, coach_id, access_tier) DO UPDATE
    SET chunks = chunk_stats.chunks + EXCLUDED.chunks, total_length = chunk_stats.total_length + EXCLUDED.total_length;
  RETURN NULL;
END $$;

CREATE FUNCTION chunks_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, -1 AS sign FROM removed WHERE is_current)
  INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
  SELECT space, chunker, coach_id, access_tier, lexeme, sum(sign) FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme
  GROUP BY space, chunker, coach_id, access_tier, lexeme
  ON CONFLICT (space, chunker, coach_id, lexeme, access_tier) DO UPDATE SET df = chunk_lexemes.df + EXCLUDED.df;
  -- A lexeme no current chunk has any more is forgotten (after an erasure, its word must not stay behind).
  DELETE FROM chunk_lexemes WHERE df <= 0;
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, -1 AS sign FROM removed WHERE is_current)
  INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
  SELECT space, chunker, coach_id, access_tier, sum(sign), sum(sign * length(tsv)) FROM changed
  GROUP BY space, chunker, coach_id, access_tier
  ON CONFLICT (space, chunker, coach_id, access_tier) DO UPDATE
    SET chunks = chunk_stats.chunks + EXCLUDED.chunks, total_length = chunk_stats.total_length + EXCLUDED.total_length;
  RETURN NULL;
END $$;

CREATE TRIGGER chunks_stats_insert AFTER INSERT ON chunks REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION chunks_after_insert();
CREATE TRIGGER chunks_stats_update AFTER UPDATE ON chunks REFERENCING OLD TABLE AS before NEW TABLE AS after
  FOR EACH STATEMENT EXECUTE FUNCTION chunks_after_update();
CREATE TRIGGER chunks_stats_delete AFTER DELETE ON chunks REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION chunks_after_delete();
