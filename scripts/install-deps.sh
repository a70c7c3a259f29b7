#!/usr/bin/env bash
# Installs what Civic Points needs from Debian's packages, skipping what is there.
# Runs as root (apt); a no-op when everything is installed, so make targets call it every time.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libgrpc-dev
  libpqxx-dev libpq-dev libhiredis-dev libsodium-dev libssl-dev libcurl4-openssl-dev
  libabsl-dev libspdlog-dev libfmt-dev nlohmann-json3-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev libcli11-dev libcsv-dev
  libboost-dev libgoogle-perftools-dev
  postgresql redis-server grpc-proto
  python3-grpcio python3-protobuf
  clang-14 libclang-rt-14-dev
  # The dashboard's browser test (tests/browser): Debian's chromium, driven headless by npm's
  # playwright-core, and a CJK font so its Chinese labels render (and screenshot) as text.
  chromium fonts-wqy-microhei
)
# Node.js and npm (for buf) may come from elsewhere on the machine; take Debian's only if absent.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
# kubectl renders the kustomize overlays in scripts/check-deploy.sh. Debian's kubernetes-client
# (1.20) is enough; a machine with another kubectl already (e.g. from a cloud SDK, whose package
# owns the same /usr/bin/kubectl and would make the install fail) keeps it.
command -v kubectl >/dev/null 2>&1 || PACKAGES+=(kubernetes-client)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
