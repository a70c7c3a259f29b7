-- ListRevocations reads the revocations of the last minutes every second or so: these partial
-- indexes hold only revoked or disabled rows, so it reads a handful of index entries instead of
-- every session and grant.
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX role_grants_revoked ON role_grants (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX people_not_active ON people (updated_at) WHERE status <> 1;
CREATE INDEX service_accounts_disabled ON service_accounts (disabled_at)
  WHERE disabled_at IS NOT NULL;
