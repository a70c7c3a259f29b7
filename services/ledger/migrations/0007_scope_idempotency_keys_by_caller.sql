-- Idempotency keys belong to their caller: before this a key was global per method, so any caller
-- could take another's key (a window's "rewards/window/<id>/cut") and be answered, or block the
-- owner, with its own result. `caller` is the token's subject (a person id or a service account
-- id, which stays the same across token renewals and restarts). Rows stored before this keep an
-- empty caller; only the internal-only methods read them back (ledger.cc says why).
ALTER TABLE idempotency_keys ADD COLUMN caller text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (caller, method, key);
