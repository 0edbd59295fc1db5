-- The event store (ARCHITECTURE.md). Events are immutable; the streams row serialises appenders of one stream
-- and holds its version, the unique (stream_id, stream_position) is the last guard of optimistic concurrency.
CREATE TABLE streams (
  stream_id  text PRIMARY KEY,
  version    bigint NOT NULL CHECK (version >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id       text NOT NULL,
  stream_position bigint NOT NULL CHECK (stream_position > 0),
  event_id        uuid NOT NULL,
  type            text NOT NULL,
  schema_version  integer NOT NULL CHECK (schema_version > 0),
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  -- Sequence numbers are handed out before commit; readers of the global order use the transaction id to
  -- never pass an event whose transaction is still running.
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  -- Milliseconds, as clients see and send times: an as-of read at an event's own time includes it.
  created_at      timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  CONSTRAINT events_stream_position_key UNIQUE (stream_id, stream_position),
  CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE INDEX events_global_order ON events (transaction_id, global_position);

-- A retried command with the same key returns the first result and appends nothing.
CREATE TABLE idempotency_keys (
  key        text PRIMARY KEY,
  stream_id  text NOT NULL,
  version    bigint,
  position   text,
  created_at timestamptz NOT NULL DEFAULT now()
);
