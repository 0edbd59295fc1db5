-- Hot lookups that take their index whatever the planner knows (issue 13). A table loaded in bulk is not analyzed
-- in time (autovacuum may be off, and runs only once a tenth of the table has changed): without column
-- statistics every equality is guessed at 1 row in 200, so any index that matches two of a query's columns
-- estimates one row, and the smallest such index wins, even one that reads every row of the coach.

-- The duplicate check (document-directory.ts) looks up one key, the source's hash then the coach (the hash has a
-- fixed length, so the key is unambiguous), oldest first. With coach_id and status as separate conditions the
-- listing index (coach_id, status, document_id) tied with this one and won, reading every active document of
-- the coach for each upload.
DROP INDEX documents_duplicates;
CREATE INDEX documents_duplicates ON documents ((source_sha256 || coach_id), created_at) WHERE status = 'active';

-- Chunks are looked up by document (closing, retiring, erasing, redelivery checks) and searched by coach. Indexes
-- that began with (space, chunker) served the document lookups' first two conditions as well as the document's
-- own index, and won them on size. The document's index now leads with document_id and is the unique key (the old
-- unique key and chunks_document (document_id, version) were the same lookup twice); the coach's indexes lead with
-- coach_id, which the document lookups do not name.
ALTER TABLE chunks DROP CONSTRAINT chunks_space_chunker_document_id_version_chunk_index_key;
DROP INDEX chunks_document;
ALTER TABLE chunks ADD CONSTRAINT chunks_document_key UNIQUE (document_id, version, chunk_index, space, chunker);

DROP INDEX chunks_current_coach;
CREATE INDEX chunks_current_coach ON chunks (coach_id, space, chunker) WHERE is_current;

-- The validity index serves as-of searches of past chunks; current chunks are found through chunks_current_coach.
DROP INDEX chunks_validity;
CREATE INDEX chunks_validity ON chunks (coach_id, space, chunker, valid_from_at) WHERE NOT is_current;

-- The embedding cache held a copy of every chunk's vector (2 KB a chunk at 512 dimensions, as much as the chunk's
-- own): a text's vector is now looked up in chunks first, by the hash of the text embedded (a hash index: ~20
-- bytes a chunk), and the cache keeps only the vectors no chunk holds any more (saved when a rebuild or a switch
-- deletes a configuration's chunks), until chunks hold them again. Existing copies go here (their space is
-- reused; VACUUM FULL embedding_cache returns it to the system).
CREATE INDEX chunks_embedded ON chunks USING hash (embedded_sha256);
DELETE FROM embedding_cache c
WHERE EXISTS (SELECT 1 FROM chunks o WHERE o.embedded_sha256 = c.text_sha256 AND o.space = c.space);
