-- URL sources (issue 14): a document made from a URL is fetched again on a schedule. This is the state of that
-- schedule, not of the document: the document's versions are events as always; here are the validators the next
-- fetch sends (ETag, Last-Modified), when it is due, and how the last attempts failed. It is written with the
-- upload's event (same transaction), cleared by an erasure, and not a projection: a rebuild leaves it alone.
CREATE TABLE url_sources (
  document_id           uuid PRIMARY KEY,
  coach_id              text NOT NULL,
  url                   text NOT NULL,
  refresh_interval_days integer NOT NULL CHECK (refresh_interval_days BETWEEN 1 AND 3650),
  etag                  text,
  last_modified         text,
  created_at            timestamptz NOT NULL,
  last_fetched_at       timestamptz,
  last_changed_at       timestamptz,
  next_refresh_at       timestamptz NOT NULL,
  failures              integer NOT NULL DEFAULT 0,
  last_error_code       text,
  last_error            text,
  last_attempt_at       timestamptz
);
-- One source per coach and URL: importing the URL again finds it.
CREATE UNIQUE INDEX url_sources_coach_url ON url_sources (coach_id, url);
-- The refresh claims the due sources in this order.
CREATE INDEX url_sources_due ON url_sources (next_refresh_at);
