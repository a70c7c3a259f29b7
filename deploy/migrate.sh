#!/bin/sh
# The migration step of a deployment (compose's `migrate`, Kubernetes' civicpoints-migrate Job):
# applies identity's, activity's, ledger's, rewards' and events' migrations to CP_PG_URL and
# exits 0, or exits with the first failing service's code (2 bad setting, 1 database unreachable
# or a migration failed). Identity needs CP_IDENTITY_MASTER_KEY_FILE even here: its settings are
# checked before it migrates.
set -eu
for service in identity activity ledger rewards events; do
  echo "migrate: $service" >&2
  CP_MIGRATE_ONLY=true "/usr/local/bin/civicpoints-$service"
done
echo "migrate: done" >&2
