#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the feedback-store tests and export its URL.
# Source it (`. .ci/postgres.sh`): TUNEFORGE_TEST_POSTGRES_URL then reaches the tests, and
# TUNEFORGE_TEST_POSTGRES_STOP holds the command that stops the server. Any failure (not root, no Debian mirror,
# port taken) leaves the variable unset, and the PostgreSQL tests skip saying so; CI goes on.

_tuneforge_start_postgres() {
  local port="${TUNEFORGE_TEST_POSTGRES_PORT:-55432}" bin data
  local -a run_as=()
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { echo "postgres.sh: postgresql is not installed and we are not root" >&2; return 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi
  bin="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")" || return 1
  data="$(mktemp -d /tmp/tuneforge-pg.XXXXXX)" || return 1
  if [ "$(id -u)" -eq 0 ]; then  # initdb refuses to run as root
    chown postgres "$data" || return 1
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
  "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null || return 1
  export TUNEFORGE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  export TUNEFORGE_TEST_POSTGRES_STOP="${run_as[*]} $bin/pg_ctl -D $data/db -m fast stop"
  echo "postgres.sh: PostgreSQL running, TUNEFORGE_TEST_POSTGRES_URL=$TUNEFORGE_TEST_POSTGRES_URL"
}

_tuneforge_start_postgres || echo "postgres.sh: PostgreSQL could not be started; its tests will skip" >&2
unset -f _tuneforge_start_postgres
