-- One checkpoint per projection and version: a new version builds beside the live one from the first event.
CREATE TABLE projection_checkpoints (
  name                 text NOT NULL,
  version              integer NOT NULL,
  position_tx          xid8 NOT NULL DEFAULT '0',
  position_seq         bigint NOT NULL DEFAULT 0,
  status               text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'live', 'retired')),
  events_applied       bigint NOT NULL DEFAULT 0,
  rebuild_requested_at timestamptz,
  rebuilds             integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);
