-- The changelog (issue #5) reads document_versions in the global order. A position is "<transaction id>.<sequence>";
-- its two numbers are kept as columns so that the order is numeric and indexed.
ALTER TABLE document_versions
  ADD COLUMN position_tx bigint GENERATED ALWAYS AS (split_part(position, '.', 1)::bigint) STORED,
  ADD COLUMN position_seq bigint GENERATED ALWAYS AS (split_part(position, '.', 2)::bigint) STORED;
CREATE INDEX document_versions_global_order ON document_versions (position_tx, position_seq);
