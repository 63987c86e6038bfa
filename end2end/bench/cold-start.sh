#!/usr/bin/env bash
# How long a new user waits for the first page: clones this repository (its HEAD) into a
# temporary folder, runs the README's `make run` there, and stops it once
# http://127.0.0.1:PORT/ answers; then prints the time of each phase (the tools, the site
# builder, each phase of the build it records, the server's start) and the whole.
#
#   end2end/bench/cold-start.sh [--fresh-cargo-home] [--fresh-npm-cache] [--port N]
#
# --fresh-cargo-home  an empty CARGO_HOME: every crate downloaded from the registry, as on a
#                     machine that never built Rust (rustup's toolchains stay where they are)
# --fresh-npm-cache   an empty npm cache: every npm package downloaded
# The clone's own target/ is always empty. Nothing else of this machine is touched; the
# temporary folder is removed at the end (KEEP=1 keeps it).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
port=3000
fresh_cargo=false
fresh_npm=false
while [ $# -gt 0 ]; do
  case $1 in
    --fresh-cargo-home) fresh_cargo=true ;;
    --fresh-npm-cache) fresh_npm=true ;;
    --port) port=$2; shift ;;
    *) echo "usage: $0 [--fresh-cargo-home] [--fresh-npm-cache] [--port N]" >&2; exit 2 ;;
  esac
  shift
done
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
  echo "something already answers on port $port: stop it, or pass --port" >&2
  exit 2
fi

work=$(mktemp -d /tmp/hybridflow-cold.XXXXXX)
cleanup() {
  [ -f "$work/pid" ] && kill -- -"$(cat "$work/pid")" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$repo" "$work/hybridflow"
cd "$work/hybridflow"
if $fresh_cargo; then
  export CARGO_HOME=$work/cargo-home
  mkdir -p "$CARGO_HOME"
  export PATH=$HOME/.cargo/bin:$PATH
fi
if $fresh_npm; then export npm_config_cache=$work/npm-cache; fi
export HYBRIDFLOW_BIND=127.0.0.1:$port

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log=$work/make-run.log
start=$(now)
# `make run` in a process group of its own (stopped as a whole at the end), every line of
# its output stamped with the seconds since the start.
setsid bash -c 'echo $$ > "$0"; exec make run' "$work/pid" 2>&1 | while IFS= read -r line; do
  printf '%8s %s\n' "$(since "$start")" "$line"
done >"$log" &
echo "make run in $work/hybridflow (its output, stamped: $log)"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 200 ]; do
  if [ -f "$work/pid" ] && ! kill -0 "$(cat "$work/pid")" 2>/dev/null; then
    echo "make run stopped before serving; the end of its output:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
  sleep 1
done
first_page=$(since "$start")
kill -- -"$(cat "$work/pid")" 2>/dev/null || true
rm -f "$work/pid"

at() { grep -m1 -F -- "$1" "$log" | awk '{print $1}'; }
minus() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { printf "%.0f", a - b }'; }
tools_end=$(at "cargo run --locked --package site")
builder_end=$(at "Building the server")
built=$(at "built in")
printf '\n%-30s %8s\n' phase seconds
printf '%-30s %8s\n' "tools (wasm target, npm)" "$(minus "$tools_end" 0)"
printf '%-30s %8s\n' "the site builder's own build" "$(minus "$builder_end" "$tools_end")"
echo "the build's phases (the server's beside the browser's chain):"
target/debug/hybridflow-site times | sed 's/^/  /'
printf '%-30s %8s\n' "the build, start to end" "$(minus "$built" "$builder_end")"
printf '%-30s %8s\n' "server start to first page" "$(minus "$first_page" "$built")"
printf '%-30s %8s  (%s)\n' "make run to first page" "$(minus "$first_page" 0)" \
  "$(awk -v s="$first_page" 'BEGIN { printf "%d min %02d s", s / 60, s % 60 }')"
