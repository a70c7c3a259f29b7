-- Results of retryable mutations by idempotency key (docs/api-conventions.md): a retry with the
-- same key and the same request hash returns the stored response; a different hash is refused.
CREATE TABLE idempotency_keys (
  method        text        NOT NULL,
  key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  request_hash  bytea       NOT NULL,
  response      bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (method, key)
);

-- Keys are kept at least 7 days; the sweep deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
