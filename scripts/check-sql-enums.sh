#!/usr/bin/env bash
# Fails when a service's SQL compares a state, status, kind or role column with a bare number
# instead of naming the value (status = enrolment_status('CONFIRMED'); common/pg/sql_enums.h).
# Scans the C++ sources of services/ and common/ (tests excluded) for string literals that do.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
columns='state|status|kind|source_kind|intent|role|level|scope_level|method|check_in_method|category|audience'
# Adjacent string literals are joined first, so a comparison split over two lines is seen whole.
found="$(cd "$root" && find services common -name '*.cc' ! -name '*_test.cc' -print0 |
  xargs -0 perl -0777 -ne '
    s/"\s*\n\s*"//g;
    while (/("[^"\n]*\b('"$columns"')\s*(=|<>|!=|(NOT\s+)?IN\s*\(|BETWEEN)\s*[0-9][^"\n]*")/g) {
      print "$ARGV: $1\n";
    }' || true)"
if [[ -n "$found" ]]; then
  echo "SQL compares an enum column with a number; name the value instead (common/pg/sql_enums.h):"
  echo "$found"
  exit 1
fi
echo "sql enums: every compared value is named"
