-- An append of one stream with nothing else to do (append-batch.ts, appendAlone) as one function call (issue 13).
-- As a plain statement it was parsed and planned on every call, a CTE of two upserts and a join: about 0.4 ms of
-- the server's CPU per append, more than it took to run. A PL/pgSQL function keeps its statement's plan for the
-- session, and plan_cache_mode makes that one generic plan from the first call (the first calls' custom plans
-- cost as little as a generic one on a new, empty table, and the choice was left to chance).
-- The expected version (NULL: any, 0: no stream yet) is checked in the statement: a stream at another version is
-- neither created nor moved on, no event is inserted, nothing is notified, and no row is returned.
CREATE FUNCTION docsvc_append_alone(p_rows jsonb, p_recorded_at timestamptz, p_channel text, p_expected int)
RETURNS TABLE (out_version int, out_tx text, out_seq text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
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
    ON CONFLICT (stream_id) DO UPDATE SET version = t.version + EXCLUDED.version, updated_at = now()
      WHERE p_expected IS NULL OR t.version = p_expected
    RETURNING t.stream_id, t.version),
  e AS (
    INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at)
    SELECT b."streamId", s.version - b.count + b.ord, b."eventId", b.type, b."schemaVersion", b.data,
           b.metadata, date_trunc('milliseconds', coalesce(p_recorded_at, now()))
    FROM batch b JOIN s ON s.stream_id = b."streamId"
    ORDER BY b.i
    RETURNING events.stream_position, events.transaction_id, events.global_position),
  last AS (SELECT * FROM e ORDER BY e.stream_position DESC LIMIT 1),
  notified AS (SELECT pg_notify(p_channel, l.transaction_id::text || '.' || l.global_position::text) FROM last l)
  SELECT l.stream_position::int, l.transaction_id::text, l.global_position::text FROM last l, notified;
END $$;
