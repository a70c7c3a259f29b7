#!/usr/bin/env bash
# Fails when one of the four services builds a refusal a client may act on (FAILED_PRECONDITION,
# RESOURCE_EXHAUSTED, PERMISSION_DENIED) without an ErrorInfo reason: those go through Refuse
# (common/status/refusal.h) with a value of the service's errors.proto (docs/api-conventions.md).
# The gateway's own refusals (policy, rate limits) come before any service and are not scanned.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pattern='absl::(FailedPrecondition|ResourceExhausted|PermissionDenied)Error\('
found="$(cd "$root" && grep -rnE --include='*.cc' --exclude='*_test.cc' --exclude='*_test_env.cc' \
  "$pattern" services/identity services/activity services/ledger services/rewards || true)"
if [[ -n "$found" ]]; then
  echo "a refusal without an ErrorInfo reason; build it with Refuse (common/status/refusal.h):"
  echo "$found"
  exit 1
fi
echo "refusals: every one carries a reason"
