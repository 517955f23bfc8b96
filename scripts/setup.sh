#!/usr/bin/env bash
# Sets up a Debian 12 machine (run as root) and then runs pganalytics' main job or its tests.
# Usage: scripts/setup.sh demo | test     (.ci/run calls `scripts/setup.sh test`)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
[ "$mode" = demo ] || [ "$mode" = test ] || { echo "usage: scripts/setup.sh demo|test" >&2; exit 2; }

# One group per line, so that each part of the project adds what it needs on a line of its own.
PACKAGES=(build-essential cmake ninja-build ccache pkg-config)
PACKAGES+=(libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev)
PACKAGES+=(libssl-dev libpq-dev zlib1g-dev libcli11-dev libfmt-dev doctest-dev libtomlplusplus-dev libargon2-dev)
PACKAGES+=(postgresql-15)                                            # the storage and the monitored server
PACKAGES+=(openssl curl jq procps)                                   # test peers and helpers
PACKAGES+=(prometheus prometheus-postgres-exporter prometheus-node-exporter pgbadger)  # reference tools
PACKAGES+=(rpm)                                                      # packaging tests
PACKAGES+=(bc)                                                       # access tests: timing ratios and latency figures
PACKAGES+=(python3)                                                  # hostile clients of the hardening tests (attack.py)

install_packages() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup.sh installs Debian packages: run it as root" >&2
    exit 1
  fi
  # Installing postgresql-15 would otherwise create and start a default cluster we never use.
  mkdir -p /etc/postgresql-common
  if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
  cmake --build build -j "$(nproc)"
}

run_tests() {
  ctest --test-dir build --output-on-failure -j 2
}

run_demo() {
  # Everything on this machine until Ctrl-C: a managed PostgreSQL, the server, an agent.
  # (under /var/tmp: the managed PostgreSQL runs as `postgres`, which cannot enter /root)
  exec build/pganalytics demo --dir "${PGA_DEMO_DIR:-/var/tmp/pganalytics-demo}"
}

install_packages
build
if [ "$mode" = test ]; then run_tests; else run_demo; fi
