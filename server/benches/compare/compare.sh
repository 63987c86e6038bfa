#!/usr/bin/env bash
# Hybridflow beside Node-RED (in memory) and Restate (durable), driven by the same load
# generator: the hotpath bench (server/benches/hotpath.rs), from its own process, one
# system at a time. Installs Node-RED and the Restate server + SDK from npm into a temporary
# folder; needs Node.js and npm. Not part of the test command.
#
#   bash server/benches/compare/compare.sh        # HOTPATH_SECONDS, HOTPATH_SERIAL apply
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/hybridflow-compare.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The Node-RED release that runs on the machine's Node.js 20 (5.x needs Node.js 22).
NODE_RED=node-red@4.1.8
RESTATE_SERVER=@restatedev/restate-server@1.7.12
# The last SDK release whose code runs on Node.js 20 (later ones call Promise.withResolvers).
RESTATE_SDK=@restatedev/restate-sdk@1.12.0

echo "== building the load generator"
cd "$root"
export RUSTFLAGS="${RUSTFLAGS:---cfg erase_components}"
bench=$(cargo bench -p server --bench hotpath --no-run 2>&1 | grep -o 'target/release/deps/hotpath-[0-9a-f]*' | tail -1)
bench="$root/$bench"

echo "== installing $NODE_RED, $RESTATE_SERVER, $RESTATE_SDK into $work"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$NODE_RED" "$RESTATE_SERVER" "$RESTATE_SDK" >/dev/null

# Waits until `curl` succeeds with the given arguments (30 s at most).
wait_for() {
    for _ in $(seq 300); do
        if curl -fsS -o /dev/null "$@" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "not answering: $*" >&2
    return 1
}

rows=()
drive() { # name url pids
    rows+=("$(HOTPATH_NO_HEADER=1 HOTPATH_NAME="$1" HOTPATH_URL="$2" HOTPATH_PID="$3" "$bench" | tail -1)")
    echo "${rows[-1]}"
}

# Hybridflow first, before the others have written anything: its runs wait for fsync, and
# another system's dirty pages still being flushed slow every fsync down.
echo "== Hybridflow"
"$bench" | tee hybridflow.txt
sync

echo "== Node-RED (http in -> function nodes -> http response; keeps nothing)"
mkdir -p node-red
cp "$here/node-red-flows.json" node-red/flows.json
node node_modules/node-red/red.js --settings "$here/settings.js" --userDir "$work/node-red" \
    "$work/node-red/flows.json" >node-red.log 2>&1 &
red=$!
pids+=("$red")
wait_for -X POST -H 'content-type: application/json' -d '{}' http://127.0.0.1:1880/flow3
drive "Node-RED 4.1, 3 function nodes" http://127.0.0.1:1880/flow3 "$red"
drive "Node-RED 4.1, 5 function nodes" http://127.0.0.1:1880/flow5 "$red"
kill "$red"; wait "$red" 2>/dev/null || true
sync

echo "== Restate (server + TypeScript SDK; each step a journaled ctx.run)"
restate_bin=node_modules/@restatedev/restate-server-linux-x64/bin/restate-server
"$restate_bin" --base-dir "$work/restate" --no-logo --listen-mode tcp >restate.log 2>&1 &
restate=$!
pids+=("$restate")
# Beside its node_modules, so that its import resolves; no log line per invocation.
cp "$here/restate-service.mjs" .
RESTATE_LOGGING=WARN node restate-service.mjs >service.log 2>&1 &
service=$!
pids+=("$service")
wait_for http://127.0.0.1:9070/health
wait_for -X POST -H 'content-type: application/json' -d '{"uri": "http://127.0.0.1:9080"}' \
    http://127.0.0.1:9070/deployments
wait_for -X POST -H 'content-type: application/json' -d '{}' http://127.0.0.1:8080/flow3/run
drive "Restate 1.7, 3 ctx.run steps" http://127.0.0.1:8080/flow3/run "$restate,$service"
drive "Restate 1.7, 5 ctx.run steps" http://127.0.0.1:8080/flow5/run "$restate,$service"
kill "$service" "$restate"; wait "$service" "$restate" 2>/dev/null || true


echo
echo "== $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "   server cpu: the CPU time of the system's processes per run (Restate: server + service endpoint)"
sed -n 2p hybridflow.txt
sed -n '3,$p' hybridflow.txt
printf '%s\n' "${rows[@]}"
