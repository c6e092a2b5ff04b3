#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster (installing it if missing) and makes sure the test
# role exists. Prints the admin URL the PostgreSQL tests use (HANDOFF_TEST_POSTGRES_URL).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  as_root pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  # After an unclean stop PostgreSQL fsyncs its whole data directory file by file before
  # it accepts connections, which can outlast pg_ctl's 60 s; one syncfs() (PostgreSQL 14+)
  # does the same in seconds, and the longer wait covers the rest.
  opts=()
  if [ "${version%%.*}" -ge 14 ]; then opts=(-o "-c recovery_init_sync_method=syncfs"); fi
  as_root pg_ctlcluster "$version" main start -- -t 600 "${opts[@]}" >&2
fi
for _ in $(seq 1 50); do
  as_root su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
as_root su postgres -c "psql -qtAc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'handoff_test') THEN CREATE ROLE handoff_test LOGIN SUPERUSER PASSWORD 'handoff_test'; END IF; END\\\$\\\$;\"" >&2
# Each test makes its own database named handoff_test_<pid>_<random>; drop those whose
# test process has ended (a finished or killed run), so they never pile up on disk.
stale=$(as_root su postgres -c "psql -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'handoff\\_test\\_%'\"")
for db in $stale; do
  pid=$(echo "$db" | cut -d_ -f3)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    as_root su postgres -c "psql -qtAc 'DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)'" >/dev/null
  fi
done
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
echo "postgres://handoff_test:handoff_test@127.0.0.1:${port}/postgres"
