#!/usr/bin/env bash
# The article's e-commerce services (Order, Payment, Inventory, Fulfillment, Email) as real
# processes on loopback, for steps bound to real services.
#
#   demo.sh start [BINARY]   starts each that is not running yet, with BINARY (default
#                            target/release/hybridflow) as `hybridflow demo-service <name>`
#                            on 127.0.0.1:4101-4105; logs and pid files in data/demo/.
#   demo.sh urls             prints each service's URL.
#   demo.sh stop             stops them.
#
# Idempotent: run it as often as you like.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/data/demo
SERVICES=(order payment inventory fulfillment email)
FIRST_PORT=4101

port_of() {
    local i
    for i in "${!SERVICES[@]}"; do
        [ "${SERVICES[$i]}" = "$1" ] && echo $((FIRST_PORT + i))
    done
}

running() {
    [ -f "$DATA/$1.pid" ] && kill -0 "$(cat "$DATA/$1.pid")" 2>/dev/null
}

start() {
    local binary=${1:-$ROOT/target/release/hybridflow}
    [ -x "$binary" ] || { echo "no $binary: build it first (make build)" >&2; exit 1; }
    mkdir -p "$DATA"
    for name in "${SERVICES[@]}"; do
        running "$name" && continue
        local port
        port=$(port_of "$name")
        nohup "$binary" demo-service "$name" --bind "127.0.0.1:$port" >"$DATA/$name.log" 2>&1 &
        echo $! >"$DATA/$name.pid"
        for _ in $(seq 100); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
            running "$name" || { echo "$name did not start; see $DATA/$name.log" >&2; exit 1; }
            sleep 0.1
        done
        echo "$name on http://127.0.0.1:$port" >&2
    done
}

stop() {
    for name in "${SERVICES[@]}"; do
        if running "$name"; then
            kill "$(cat "$DATA/$name.pid")"
        fi
        rm -f "$DATA/$name.pid"
    done
}

case "${1:-start}" in
    start) start "${2:-}" ;;
    urls) for name in "${SERVICES[@]}"; do echo "$name http://127.0.0.1:$(port_of "$name")"; done ;;
    stop) stop ;;
    *) echo "usage: $0 start [BINARY]|urls|stop" >&2; exit 2 ;;
esac
