#!/usr/bin/env bash
# NATS with JetStream, the bus between Hybridflow's server processes, on this machine only.
#
#   nats.sh start   installs nats-server from Debian's packages if missing and starts it on
#                   127.0.0.1:$HYBRIDFLOW_NATS_PORT (54222), JetStream data in data/nats/,
#                   unless it is running already.
#   nats.sh url     prints its URL (nats://127.0.0.1:54222).
#   nats.sh stop    stops it (the data stays).
#
# Idempotent: run it as often as you like.
set -euo pipefail
PORT=${HYBRIDFLOW_NATS_PORT:-54222}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/data/nats
PID_FILE=$DATA/nats.pid

running() {
    [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

start() {
    if ! command -v nats-server >/dev/null; then
        echo "installing nats-server from Debian's packages" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >&2
    fi
    running && return 0
    mkdir -p "$DATA/jetstream"
    # Loopback only; JetStream's files under data/nats/; 1 MiB messages at most.
    cat > "$DATA/nats.conf" <<CONF
listen: 127.0.0.1:$PORT
pid_file: "$PID_FILE"
max_payload: 1MB
jetstream {
    store_dir: "$DATA/jetstream"
    max_memory_store: 256MB
    max_file_store: 2GB
}
CONF
    nohup nats-server -c "$DATA/nats.conf" >"$DATA/server.log" 2>&1 &
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && running; then
            echo "NATS started on 127.0.0.1:$PORT (JetStream data in data/nats/)" >&2
            return 0
        fi
        sleep 0.1
    done
    echo "NATS did not start; see $DATA/server.log" >&2
    exit 1
}

stop() {
    if running; then
        kill "$(cat "$PID_FILE")"
        for _ in $(seq 50); do running || return 0; sleep 0.1; done
    fi
}

case "${1:-start}" in
    start) start ;;
    url) echo "nats://127.0.0.1:$PORT" ;;
    stop) stop ;;
    *) echo "usage: $0 start|url|stop" >&2; exit 2 ;;
esac
