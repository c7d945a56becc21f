#!/usr/bin/env bash
# Start a local PostgreSQL server for the registry's PostgreSQL conformance tests and print its
# URL on stdout (the only stdout line). Debian, as root: installs the `postgresql` package with
# apt-get when missing, starts the first cluster with pg_ctlcluster, and creates the role and
# database `earmark` / `earmark_test` (password `earmark`). Progress goes to stderr.
#
# Usage:  export EARMARK_TEST_PG_URL="$(.ci/postgres.sh)"
set -euo pipefail

ROLE=earmark
PASSWORD=earmark
DB=earmark_test
log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (apt-get, pg_ctlcluster)"
  exit 1
fi

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  log "installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
fi

# The first cluster (the package creates "<version> main").
read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -n 1) || true
if [ -z "${VERSION:-}" ]; then
  VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  log "creating cluster $VERSION main"
  pg_createcluster "$VERSION" main >&2
  read -r VERSION CLUSTER PORT STATUS _ < <(pg_lsclusters --no-header | head -n 1)
fi
if [ "$STATUS" != "online" ]; then
  log "starting cluster $VERSION $CLUSTER on port $PORT"
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

for _ in $(seq 1 50); do
  if su postgres -c "pg_isready -q -h 127.0.0.1 -p $PORT" 2>/dev/null; then break; fi
  sleep 0.2
done

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -q -X -p $PORT -d postgres $*"; }
if [ "$(psql_admin "-tAc \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"")" != "1" ]; then
  log "creating role $ROLE"
  psql_admin "-c \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'\"" >&2
fi
if [ "$(psql_admin "-tAc \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"")" != "1" ]; then
  log "creating database $DB"
  psql_admin "-c \"CREATE DATABASE $DB OWNER $ROLE\"" >&2
fi

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
