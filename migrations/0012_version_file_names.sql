-- The name each version's file was uploaded with, so that GET /documents/:id/file can offer it again
-- (Content-Disposition). Versions written before this migration have none (their names are sealed in the events):
-- their files are served without a name, as before.
ALTER TABLE document_versions ADD COLUMN file_name text;
