-- Issue 17: a retry with the same Idempotency-Key gets the first answer only when it is the same request. Each key
-- keeps a digest of the command it was first used for; the same key with another command is refused (422).
ALTER TABLE idempotency_keys ADD COLUMN request_sha256 text;
