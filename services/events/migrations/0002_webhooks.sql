-- Webhooks (events/v1/webhook.proto): city systems' endpoints the feed pushes events to. A row
-- holds the endpoint, its filters with the owner's grants as they were at registration, its
-- signing secret, and its delivery state; a dispatcher leases a row (lease_until) while it
-- delivers, so replicas never post one webhook's events twice at once or out of order.
CREATE TABLE webhooks (
  webhook_id        text        PRIMARY KEY,
  owner_id          text        NOT NULL,
  url               text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  types             text[]      NOT NULL,
  org_id            text        NOT NULL,
  sees_everything   boolean     NOT NULL,
  covered_nodes     text[]      NOT NULL,
  description       text        NOT NULL,
  -- The HMAC key itself: signing needs it. The secret shown to the owner is "whsec_" + base64.
  secret            bytea       NOT NULL,
  secret_prefix     text        NOT NULL,
  state             smallint    NOT NULL CHECK (webhook_state_defined(state)),
  position          bigint      NOT NULL,  -- the feed seq delivered through
  last_delivery_at  timestamptz,
  failed_attempts   integer     NOT NULL DEFAULT 0,
  failing_since     timestamptz,
  next_attempt_at   timestamptz,
  last_error        text        NOT NULL DEFAULT '',
  lease_until       timestamptz,
  lease_token       text        NOT NULL DEFAULT '',  -- whose lease: updates name it
  created_at        timestamptz NOT NULL DEFAULT now(),
  -- When the owner last showed its authority (registration, ResumeWebhook): a revocation of the
  -- owner after it (a disabled account, a suspended person) stops the deliveries.
  authorized_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_owner ON webhooks (owner_id, created_at);

-- Results of retryable mutations by idempotency key (docs/api-conventions.md).
CREATE TABLE idempotency_keys (
  method        text        NOT NULL,
  key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  request_hash  bytea       NOT NULL,
  response      bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (method, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
