#!/usr/bin/env bash
# Hybridflow's distributed mode on this machine: three server processes on
# 127.0.0.1:3001, :3002 and :3003, sharing PostgreSQL (the store) and NATS (the bus), both
# started first (postgres.sh, nats.sh). Open any of the three in a browser; Ctrl-C stops
# them (PostgreSQL and NATS keep running: `server/services/postgres.sh stop`,
# `server/services/nats.sh stop`).
#
#   HYBRIDFLOW_BINARY   the server to run (default: target/release/hybridflow)
#   HYBRIDFLOW_LEASE_MS how long a stopped process's runs wait before another takes them
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BINARY=${HYBRIDFLOW_BINARY:-$ROOT/target/release/hybridflow}
"$ROOT/server/services/postgres.sh" start
"$ROOT/server/services/nats.sh" start
DATABASE=$("$ROOT/server/services/postgres.sh" url)
BUS=$("$ROOT/server/services/nats.sh" url)
pids=()
stop() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
    wait
}
trap stop INT TERM EXIT
for n in 1 2 3; do
    HYBRIDFLOW_PROCESS_ID=node-$n "$BINARY" --bind "127.0.0.1:300$n" \
        --database "$DATABASE" --bus "$BUS" &
    pids+=($!)
done
echo "Hybridflow cluster: http://127.0.0.1:3001 http://127.0.0.1:3002 http://127.0.0.1:3003 (Ctrl-C stops it)" >&2
wait -n "${pids[@]}" || true
echo "a server process stopped; stopping the others" >&2
