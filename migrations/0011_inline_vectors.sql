-- Keep vectors, and the columns that search filters on, in the table's own rows instead of TOAST.
--
-- A chunk's row is ~4.5 KB with a 512-dimension vector (2 KB), above PostgreSQL's 2 KB TOAST target, so the
-- toaster moved its largest column, the vector, out of line (pglz cannot compress floats). Every exact vector
-- search, every vector index build and every filtered index scan then fetched each chunk's vector from the TOAST
-- table through its index: ~6 µs a chunk against ~1.2 µs inline (measured on PostgreSQL 15, 20,000 rows of
-- this shape: 123 ms against 23 ms for an exact nearest-neighbour scan).
--
-- STORAGE MAIN keeps a column in the row unless the row alone would not fit in a page (then it still goes out of
-- line: 3,072-dimension vectors, 12 KB, do). With the vector kept inline, the row cannot get under the target,
-- so the toaster moves out every EXTENDED column longer than a TOAST pointer. Those are the columns only read
-- for the k results (title, content, section, metadata). What searches read for every candidate is MAIN too:
-- the filter columns, and `tsv`, which BM25 reads for each of up to 2,000 candidates (compressed, in the row).
--
-- Rows already written keep their layout until rewritten: a projection rebuild or `VACUUM FULL chunks` does it.
ALTER TABLE chunks
  ALTER COLUMN embedding SET STORAGE MAIN,
  ALTER COLUMN space SET STORAGE MAIN,
  ALTER COLUMN chunker SET STORAGE MAIN,
  ALTER COLUMN coach_id SET STORAGE MAIN,
  ALTER COLUMN access_tier SET STORAGE MAIN,
  ALTER COLUMN document_type SET STORAGE MAIN,
  ALTER COLUMN tags SET STORAGE MAIN,
  ALTER COLUMN publication_date SET STORAGE MAIN,
  ALTER COLUMN valid_from SET STORAGE MAIN,
  ALTER COLUMN valid_to SET STORAGE MAIN,
  ALTER COLUMN embedded_sha256 SET STORAGE MAIN,
  ALTER COLUMN tsv SET STORAGE MAIN;

-- The embedding cache is read by text hash on every projection batch and rebuild: the same applies.
ALTER TABLE embedding_cache
  ALTER COLUMN embedding SET STORAGE MAIN,
  ALTER COLUMN space SET STORAGE MAIN,
  ALTER COLUMN text_sha256 SET STORAGE MAIN;
