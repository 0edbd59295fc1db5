-- Documents (issue #3). Event payloads with document text are sealed with a per-document key; erasing the
-- document deletes its key (crypto-shredding), its file when no other document uses it, and its read-model text.
CREATE TABLE document_keys (
  document_id uuid PRIMARY KEY,
  key         bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Original files, stored once by SHA-256 and referenced from events by hash.
CREATE TABLE files (
  sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text NOT NULL,
  size         bigint NOT NULL,
  bytes        bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Inline read model: the current state of every document.
CREATE TABLE documents (
  document_id      uuid PRIMARY KEY,
  coach_id         text NOT NULL,
  status           text NOT NULL CHECK (status IN ('active', 'retired', 'erased')),
  version          integer NOT NULL,
  title            text,
  content          text,
  format           text,
  metadata         jsonb,
  document_type    text,
  access_tier      text,
  tags             text[] NOT NULL DEFAULT '{}',
  publication_date text,
  source_id        uuid,
  source_type      text,
  source_url       text,
  source_sha256    text,
  file_sha256      text,
  created_at       timestamptz NOT NULL,
  created_by       text NOT NULL,
  updated_at       timestamptz NOT NULL,
  updated_by       text NOT NULL,
  position         text NOT NULL
);
CREATE INDEX documents_coach_listing ON documents (coach_id, status, document_id);
CREATE INDEX documents_duplicates ON documents (coach_id, source_sha256) WHERE status = 'active';
CREATE INDEX documents_tags ON documents USING gin (tags);

-- Inline read model: every version with who, when, why and where in the global order.
CREATE TABLE document_versions (
  document_id      uuid NOT NULL,
  version          integer NOT NULL,
  change           text NOT NULL,
  change_summary   text,
  actor            text NOT NULL,
  at               timestamptz NOT NULL,
  position         text NOT NULL,
  status           text NOT NULL,
  rolled_back_to   integer,
  title            text,
  content          text,
  format           text,
  metadata         jsonb,
  file_sha256      text,
  PRIMARY KEY (document_id, version)
);
CREATE INDEX document_versions_files ON document_versions (file_sha256) WHERE file_sha256 IS NOT NULL;
