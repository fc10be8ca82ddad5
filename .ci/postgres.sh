#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the feedback-store tests and export its URL.
# Source it (`. .ci/postgres.sh`) so that TUNEFORGE_TEST_POSTGRES_URL reaches the tests; without a server the
# tests skip with a message saying so. Installs Debian's postgresql when it is missing (needs root).
set -euo pipefail

port="${TUNEFORGE_TEST_POSTGRES_PORT:-55432}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "postgres.sh: postgresql is not installed and we are not root; PostgreSQL tests will skip" >&2
    return 0 2>/dev/null || exit 0
  fi
fi
bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
data="$(mktemp -d /tmp/tuneforge-pg.XXXXXX)"
run_as=()
if [ "$(id -u)" -eq 0 ]; then  # initdb refuses to run as root
  chown postgres "$data"
  run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
export TUNEFORGE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "postgres.sh: PostgreSQL running, TUNEFORGE_TEST_POSTGRES_URL=$TUNEFORGE_TEST_POSTGRES_URL (stop: $bin/pg_ctl -D $data/db stop)"
