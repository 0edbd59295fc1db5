-- As-of search (issue #5) reads past chunk versions too: their full-text index, beside the current chunks' one,
-- so that an as-of text search finds its candidates by index instead of scanning the coach's chunks.
-- (Their vector index is created by the chunks projection with the current one: see vector-index.ts.)
CREATE INDEX chunks_tsv_past ON chunks USING gin (tsv) WHERE NOT is_current;

