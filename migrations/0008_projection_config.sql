-- Blue/green projection versions (issue #5): each checkpoint records the configuration its version was built with
-- (for the chunks: embedder and chunker), so that a process configured for a new version can keep serving,
-- and keep projecting, the live one until the new one has caught up.
ALTER TABLE projection_checkpoints ADD COLUMN config jsonb;
