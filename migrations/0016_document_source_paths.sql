-- Folder imports (issue 14): a document imported from a folder keeps the file's relative path, and a later import
-- of the same path is a new version of it, not a new document. The import looks a path up before every file:
-- one index on both columns, so that the lookup never depends on planner statistics (nothing analyzes this table
-- while it is bulk loaded). An erased document gives its path up (the path can name people).
ALTER TABLE documents ADD COLUMN source_path text;
CREATE INDEX documents_source_paths ON documents (coach_id, source_path) WHERE source_path IS NOT NULL;
