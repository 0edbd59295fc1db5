-- Faster upkeep of the BM25 statistics (issue #4, ingest speed).
-- * An insert only adds to df, so it never needs to forget a lexeme: the insert trigger no longer deletes.
-- * Updates and deletions forget only the lexemes they touched whose df reached 0, found by primary key, so the
--   partial index on df goes: with df in no index, the upserts of df can be HOT updates.
DROP INDEX chunk_lexemes_forgotten;

CREATE OR REPLACE FUNCTION chunks_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
  SELECT space, chunker, coach_id, access_tier, lexeme, count(*)
  FROM added, unnest(tsvector_to_array(tsv)) AS lexeme WHERE is_current
  GROUP BY space, chunker, coach_id, access_tier, lexeme
  ON CONFLICT (space, chunker, coach_id, lexeme, access_tier) DO UPDATE SET df = chunk_lexemes.df + EXCLUDED.df;
  INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
  SELECT space, chunker, coach_id, access_tier, count(*), sum(length(tsv)) FROM added WHERE is_current
  GROUP BY space, chunker, coach_id, access_tier
  ON CONFLICT (space, chunker, coach_id, access_tier) DO UPDATE
    SET chunks = chunk_stats.chunks + EXCLUDED.chunks, total_length = chunk_stats.total_length + EXCLUDED.total_length;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION chunks_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
  WITH changed AS (SELECT b.space, b.chunker, b.coach_id, b.access_tier, b.tsv, -1 AS sign FROM before b JOIN after a USING (id)
    WHERE b.is_current AND NOT a.is_current
    UNION ALL SELECT a.space, a.chunker, a.coach_id, a.access_tier, a.tsv, 1 FROM before b JOIN after a USING (id)
    WHERE a.is_current AND NOT b.is_current)
  DELETE FROM chunk_lexemes l
  USING (SELECT DISTINCT space, chunker, coach_id, access_tier, lexeme
         FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme WHERE sign < 0) k
  WHERE l.space = k.space AND l.chunker = k.chunker AND l.coach_id = k.coach_id AND l.lexeme = k.lexeme
    AND l.access_tier = k.access_tier AND l.df <= 0;
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

CREATE OR REPLACE FUNCTION chunks_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, -1 AS sign FROM removed WHERE is_current)
  INSERT INTO chunk_lexemes (space, chunker, coach_id, access_tier, lexeme, df)
  SELECT space, chunker, coach_id, access_tier, lexeme, sum(sign) FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme
  GROUP BY space, chunker, coach_id, access_tier, lexeme
  ON CONFLICT (space, chunker, coach_id, lexeme, access_tier) DO UPDATE SET df = chunk_lexemes.df + EXCLUDED.df;
  -- A lexeme no current chunk has any more is forgotten (after an erasure, its word must not stay behind).
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, -1 AS sign FROM removed WHERE is_current)
  DELETE FROM chunk_lexemes l
  USING (SELECT DISTINCT space, chunker, coach_id, access_tier, lexeme
         FROM changed, unnest(tsvector_to_array(tsv)) AS lexeme WHERE sign < 0) k
  WHERE l.space = k.space AND l.chunker = k.chunker AND l.coach_id = k.coach_id AND l.lexeme = k.lexeme
    AND l.access_tier = k.access_tier AND l.df <= 0;
  WITH changed AS (SELECT space, chunker, coach_id, access_tier, tsv, -1 AS sign FROM removed WHERE is_current)
  INSERT INTO chunk_stats (space, chunker, coach_id, access_tier, chunks, total_length)
  SELECT space, chunker, coach_id, access_tier, sum(sign), sum(sign * length(tsv)) FROM changed
  GROUP BY space, chunker, coach_id, access_tier
  ON CONFLICT (space, chunker, coach_id, access_tier) DO UPDATE
    SET chunks = chunk_stats.chunks + EXCLUDED.chunks, total_length = chunk_stats.total_length + EXCLUDED.total_length;
  RETURN NULL;
END $$;
