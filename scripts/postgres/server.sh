#!/usr/bin/env bash
# A PostgreSQL server for the tests, from Debian's `postgresql` package: installs it when missing, creates
# and starts a cluster that listens on loopback and runs as the `postgres` user (pg_ctlcluster drops root),
# and makes the role and database the tests use. Safe to run again: it only does what is not done yet.
# Prints the server's URL (for BERTH_TEST_DATABASE_URL) on stdout; everything else goes to stderr.
#
#   BERTH_PG_CLUSTER  cluster name (default main)
#   BERTH_PG_PORT     port of a cluster this script creates (default 5432); an existing cluster keeps its own
#   BERTH_PG_DATA     data directory of a cluster this script creates (default Debian's, /var/lib/postgresql/...)
set -euo pipefail
exec 3>&1 1>&2
export DEBIAN_FRONTEND=noninteractive

cluster="${BERTH_PG_CLUSTER:-main}"
port="${BERTH_PG_PORT:-5432}"
role=berth
password=berth
database=berth

# Runs a command that may leave a daemon behind (the package's own cluster, a started server) with none of
# the caller's descriptors: not the URL's (fd 3, the caller's "$(...)", which would then wait for the daemon
# to exit) nor the caller's stdout or stderr (a CI log that would stay open). Its output follows on stderr.
detached() {
    local out rc=0
    out="$(mktemp)"
    "$@" </dev/null >"$out" 2>&1 3>&- || rc=$?
    cat "$out" >&2
    rm -f "$out"
    return "$rc"
}

if ! dpkg-query -W -f '${Status}' postgresql 2>/dev/null | grep -q "install ok installed"; then
    detached apt-get update -qq
    detached apt-get install -y -qq --no-install-recommends postgresql
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    detached pg_createcluster --port "$port" ${BERTH_PG_DATA:+--datadir "$BERTH_PG_DATA"} "$version" "$cluster" -- --auth-local=peer --auth-host=scram-sha-256
fi
port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')"
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c && $4 == "online" { found = 1 } END { exit !found }'; then
    # The server's own log: /var/log/postgresql/postgresql-<version>-<cluster>.log.
    detached pg_ctlcluster "$version" "$cluster" start
fi

as_postgres() { runuser -u postgres -- psql --cluster "$version/$cluster" -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
    as_postgres -c "CREATE ROLE $role LOGIN"
fi
# CREATEDB: each test suite makes a database of its own and drops it. CREATEROLE: the password rotation
# test makes a role of its own, whose password it changes while it queries.
as_postgres -c "ALTER ROLE $role WITH LOGIN CREATEDB CREATEROLE PASSWORD '$password'"
if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
    as_postgres -c "CREATE DATABASE $database OWNER $role"
fi

echo "PostgreSQL $version cluster $cluster on 127.0.0.1:$port" >&2
echo "postgresql://$role:$password@127.0.0.1:$port/$database" >&3
