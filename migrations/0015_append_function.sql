-- Every append's one statement (append-batch.ts) as a function (issue 13): every stream's version, in stream id
-- order (two batches over the same streams cannot deadlock), every event, and the NOTIFY with the last position
-- (queued, sent at commit: a rolled back batch sends none). As a plain statement it was parsed and planned on
-- every call, a CTE of two upserts and a join: about 0.4 ms of the server's CPU per append, more than it took to
-- run. A PL/pgSQL function keeps its statement's plan for the session, and plan_cache_mode makes that one generic
-- plan from the first call (the first calls' custom plans cost as little as a generic one on a new, empty table,
-- and the choice was left to chance).
-- p_expected (one stream's expected version; NULL: not checked here, 0: no stream yet) is checked in the
-- statement, for an append committed on its own: a stream at another version is neither created nor moved on, no
-- event is inserted, nothing is notified, and no row is returned. A batch passes NULL and checks in its
-- transaction.
CREATE FUNCTION docsvc_append(p_rows jsonb, p_recorded_at timestamptz, p_channel text, p_expected int)
RETURNS TABLE (event_id text, stream_id text, stream_position text, tx text, seq text, type text,
               schema_version int, data jsonb, metadata jsonb, created_at timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH batch AS (
    SELECT row_number() OVER () AS i, r.* FROM jsonb_to_recordset(p_rows) AS r("streamId" text, ord int,
      count int, "eventId" uuid, type text, "schemaVersion" int, data jsonb, metadata jsonb)),
  s AS (
    INSERT INTO streams AS t (stream_id, version)
    SELECT b."streamId", b.count FROM batch b
    WHERE b.ord = 1
      AND (p_expected IS NULL OR p_expected = 0 OR EXISTS (SELECT 1 FROM streams x WHERE x.stream_id = b."streamId"))
    ORDER BY b."streamId"
    ON CONFLICT (stream_id) DO UPDATE SET version = t.version + EXCLUDED.version, updated_at = now()
      WHERE p_expected IS NULL OR t.version = p_expected
    RETURNING t.stream_id, t.version),
  e AS (
    INSERT INTO events AS n (stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at)
    SELECT b."streamId", s.version - b.count + b.ord, b."eventId", b.type, b."schemaVersion", b.data,
           b.metadata, date_trunc('milliseconds', coalesce(p_recorded_at, now()))
    FROM batch b JOIN s ON s.stream_id = b."streamId"
    ORDER BY b.i
    RETURNING n.event_id::text, n.stream_id, n.stream_position::text, n.transaction_id::text AS tx,
      n.global_position::text AS seq, n.type, n.schema_version, n.data, n.metadata, n.created_at),
  notified AS (
    SELECT pg_notify(p_channel, l.tx || '.' || l.seq)
    FROM (SELECT e.tx, e.seq FROM e ORDER BY e.seq::bigint DESC LIMIT 1) l)
  SELECT e.* FROM e, notified;
END $$;
