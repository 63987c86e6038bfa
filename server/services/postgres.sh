#!/usr/bin/env bash
# PostgreSQL for Hybridflow's distributed mode and its tests, on this machine only.
#
#   postgres.sh start   installs PostgreSQL from Debian's packages if missing, creates its
#                       cluster under data/postgres/ at the first start (or, as root in a
#                       checkout the postgres user cannot reach, under
#                       /var/lib/postgresql/hybridflow-<checkout hash>/; a role and database
#                       `hybridflow`, a password generated then), and starts it on
#                       127.0.0.1:$HYBRIDFLOW_PG_PORT (55432) if it is not running.
#   postgres.sh url     prints the database URL (postgres://hybridflow:…@127.0.0.1:55432/hybridflow).
#   postgres.sh stop    stops it (the data stays).
#
# Idempotent: run it as often as you like. As root, the server runs as Debian's `postgres`
# user (PostgreSQL refuses to run as root), which then owns data/postgres/.
set -euo pipefail
PORT=${HYBRIDFLOW_PG_PORT:-55432}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$found" ]; then
        echo "installing PostgreSQL from Debian's packages" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    echo "$found"
}

PG=$(bin)
DATA=$ROOT/data/postgres
# As root, the cluster belongs to Debian's `postgres` user, which must be able to reach it:
# a checkout under a folder only root may enter (/root, a 0700 home) gets its cluster in
# postgres's own home instead, one per checkout.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$ROOT/data"
    if ! (cd / && runuser -u postgres -- test -x "$ROOT/data") 2>/dev/null; then
        DATA=/var/lib/postgresql/hybridflow-$(echo "$ROOT" | md5sum | cut -c1-12)
    fi
fi
CLUSTER=$DATA/cluster
PASSWORD_FILE=$DATA/password

# Runs a PostgreSQL program as the user that owns the cluster.
as_owner() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

url() {
    echo "postgres://hybridflow:$(cat "$PASSWORD_FILE")@127.0.0.1:$PORT/hybridflow"
}

start() {
    local pg=$PG
    if [ ! -f "$CLUSTER/PG_VERSION" ]; then
        rm -rf "$DATA"
        mkdir -p "$DATA"
        [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
        chmod 700 "$DATA"
        # A password of 32 hex digits, readable only by the cluster's owner (and root).
        as_owner bash -c "umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > '$PASSWORD_FILE'"
        as_owner "$pg/initdb" -D "$CLUSTER" -U hybridflow --pwfile="$PASSWORD_FILE" \
            --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
    fi
    if ! as_owner "$pg/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; then
        # Loopback only; a socket in data/postgres/; room for three servers and the tests.
        as_owner "$pg/pg_ctl" -D "$CLUSTER" -l "$DATA/server.log" -w -t 60 start \
            -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c max_connections=300" >/dev/null
        echo "PostgreSQL started on 127.0.0.1:$PORT (data in $DATA)" >&2
    fi
    local exists
    exists=$(PGPASSWORD=$(cat "$PASSWORD_FILE") "$pg/psql" -h 127.0.0.1 -p "$PORT" -U hybridflow \
        -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'hybridflow'")
    if [ "$exists" != 1 ]; then
        PGPASSWORD=$(cat "$PASSWORD_FILE") "$pg/psql" -h 127.0.0.1 -p "$PORT" -U hybridflow \
            -d postgres -qc "CREATE DATABASE hybridflow" >/dev/null
    fi
}

stop() {
    local pg=$PG
    if [ -f "$CLUSTER/PG_VERSION" ] && as_owner "$pg/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; then
        as_owner "$pg/pg_ctl" -D "$CLUSTER" -m fast -w stop >/dev/null
    fi
}

case "${1:-start}" in
    start) start ;;
    url) url ;;
    stop) stop ;;
    *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
esac
