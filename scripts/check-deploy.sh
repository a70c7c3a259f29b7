#!/usr/bin/env bash
# Offline checks of deploy/ and k8s/ against the built binaries: the Dockerfile, the compose file
# and every kustomize overlay (rendered with kubectl, validated against the Kubernetes schemas of
# the kubernetes-models npm package). Docker and a cluster are not needed.
#   scripts/check-deploy.sh [build dir]     (default: build; `make test` runs it as deploy_check)
# Needs kubectl (Debian's kubernetes-client, or any newer one) and the npm packages in tools/
# (`make tools`).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "${1:-$repo/build}" && pwd)

command -v kubectl >/dev/null 2>&1 ||
  { echo "check-deploy: kubectl not found; run scripts/install-deps.sh (kubernetes-client)" >&2; exit 1; }
[[ -d "$repo/tools/node_modules/kubernetes-models" && -d "$repo/tools/node_modules/yaml" ]] ||
  { echo "check-deploy: tools/node_modules lacks kubernetes-models or yaml; run make tools" >&2; exit 1; }

exec node "$repo/tools/check-deploy.mjs" "$repo" "$build_dir"
