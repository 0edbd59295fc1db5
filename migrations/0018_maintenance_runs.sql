-- Maintenance (issue 15, docs/maintenance.md). Each run's report, kept for GET /admin/maintenance/runs: a run is
-- written when it starts ('running') and again when it ends; a run found 'running' by the next one (which holds
-- the maintenance lock, so nothing else can be running) died with its process and is marked 'interrupted'.
-- `seq` orders runs by start (the clock may not move between two runs); only the newest MAINTENANCE_RUNS_KEPT stay.
CREATE TABLE maintenance_runs (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      uuid NOT NULL UNIQUE,
  trigger     text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
  status      text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  report      jsonb NOT NULL
);

-- A vector index of current chunks as maintenance last rebuilt it (or first saw it): the rows it covered and the
-- highest chunk id then, from which the entries that have died since are counted (rows closed or deleted since),
-- the measure its bloat is judged by. `index_oid` tells a later build by someone else (the projector after a bulk
-- load, an operator's REINDEX) from the index measured here: such an index is measured again.
CREATE TABLE maintenance_index_baselines (
  index_name   text PRIMARY KEY,
  index_oid    bigint NOT NULL,
  live_rows    bigint NOT NULL,
  max_chunk_id bigint NOT NULL,
  size_bytes   bigint NOT NULL,
  rebuilt      boolean NOT NULL,
  measured_at  timestamptz NOT NULL DEFAULT now()
);
