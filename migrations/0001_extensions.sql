-- pgvector holds the chunk embeddings. The migrator checks that the server has it before running this file,
-- so a server without it gets instructions instead of a bare "could not open extension control file".
CREATE EXTENSION IF NOT EXISTS vector;
