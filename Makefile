# Hybridflow: `make run` serves the app, `make test` runs every check. Both install what is
# missing first, and skip what is already there.
SHELL := /bin/bash
.DEFAULT_GOAL := run

NODE_BIN := $(CURDIR)/end2end/node_modules/.bin
# wasm-opt comes from the npm package binaryen (Debian's is too old to keep hydration working),
# terser (the JavaScript minifier) from npm too; wasm-bindgen is a library of the site builder
# (server/site), locked with the app's wasm-bindgen, so there is no CLI to install or match.
export PATH := $(NODE_BIN):$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR := never
# Leptos's type-erased components (the wasm a fifth smaller, builds faster). Server and
# browser must agree on it (hydration reads what the server rendered), so every cargo
# command here builds with it — and each crate is built once per profile.
export RUSTFLAGS := --cfg erase_components

.PHONY: run test tools browser python build site lint lint-ssr lint-hydrate test-rust test-e2e clean-data fuzz screenshots postgres nats cluster demo-services

CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TARGET ?= text
FUZZ_SECONDS ?= 60

## Install what is missing (idempotent): the wasm target, the npm tools.
tools:
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@if [ ! -x $(NODE_BIN)/wasm-opt ] || [ ! -x $(NODE_BIN)/terser ] || [ ! -x $(NODE_BIN)/playwright ] \
		|| [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
		cd end2end && npm ci --no-audit --no-fund; fi

## Python 3 for the README's own-service example the Rust tests run (Debian's, if missing).
python:
	@command -v python3 >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3)

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi

## The journey in pictures, English and Korean (docs/screenshots/), from a release server on
## a fresh database at SHOTS_PORT; Korean needs a CJK font, installed if missing.
SHOTS_PORT ?= 3400
screenshots: build browser
	@fc-list :lang=ko | grep -q . || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-noto-cjk)
	@db=$$(mktemp -d)/shots.db; \
		./target/release/hybridflow --bind 127.0.0.1:$(SHOTS_PORT) --database $$db --log warn & pid=$$!; \
		trap "kill $$pid" EXIT; \
		for i in $$(seq 50); do curl -sf http://127.0.0.1:$(SHOTS_PORT)/api/health >/dev/null && break; sleep 0.2; done; \
		node end2end/tools/screenshots.mjs http://127.0.0.1:$(SHOTS_PORT)

## The release build: the server and, side by side, the browser's wasm, then split, bound,
## optimised, minified and compressed (brotli and gzip files the server sends as they are),
## by the site builder in server/site, which prints its progress with an estimate.
build: tools
	cargo run --locked --package site --bin hybridflow-site -- build

## The site alone (the browser's wasm, split, bound, optimised, compressed), for the browser
## tests of `make test`, which serve it with the server binary its Rust tests built.
site: tools
	cargo run --locked --package site --bin hybridflow-site -- site

## Build in release mode and serve at http://127.0.0.1:3000 on ./data/hybridflow.db.
run: build
	./target/release/hybridflow

## The distributed mode: three processes on 127.0.0.1:3001-3003 sharing PostgreSQL and NATS
## (installed and started first, as for the tests); Ctrl-C stops the three.
cluster: build
	server/services/cluster.sh

## The article's e-commerce services as real processes on 127.0.0.1:4101-4105 (Order,
## Payment, Inventory, Fulfillment, Email), for steps bound to real services; started
## unless running, `server/services/demo.sh stop` stops them.
demo-services: build
	server/services/demo.sh start

lint: lint-ssr lint-hydrate

## Format, and clippy on the server's build (and every test, bench and tool).
lint-ssr: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

## Clippy on the browser's build (wasm32), in the browser build's own target dir, where it
## never waits on the server build's cargo lock.
lint-hydrate: tools
	CARGO_TARGET_DIR=target/front cargo clippy -p app --lib --no-default-features --features hydrate --target wasm32-unknown-unknown --locked -- -D warnings

## PostgreSQL on 127.0.0.1:55432, data in data/postgres/, and NATS with JetStream on
## 127.0.0.1:54222, data in data/nats/ (installed from Debian's packages if missing; started
## if not running): what the distributed mode and its tests use.
postgres:
	@server/services/postgres.sh start
nats:
	@server/services/nats.sh start

## The Rust tests; the store conformance suite runs each test on PostgreSQL too, and the
## cluster tests run three processes on PostgreSQL and NATS.
test-rust: tools python postgres nats
	HYBRIDFLOW_TEST_POSTGRES=$$(server/services/postgres.sh url) \
	HYBRIDFLOW_TEST_NATS=$$(server/services/nats.sh url) \
	cargo test --workspace --locked

## The browser tests against the release server (`make test` runs them against the server
## its Rust tests built, E2E_SERVER).
test-e2e: build browser
	cd end2end && npx playwright test

## Fuzz one importer (native, article, conductor, text, mermaid, bpmn, bpmn_flows, asl) or the document parser (document)
## for FUZZ_SECONDS with libFuzzer, from the corpus in app/fuzz/corpus/<target> (new inputs
## that reach new code are added there). libFuzzer's instrumentation flags are nightly-only,
## so the stable toolchain is asked to accept them (RUSTC_BOOTSTRAP).
fuzz:
	@cargo fuzz --version 2>/dev/null | grep -q '$(CARGO_FUZZ_VERSION)' || \
		cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
	cd app && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer none $(FUZZ_TARGET) \
		-- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1

## Every check, in two chains side by side — on two cores one chain is often waiting (on
## tests, on a crate nothing else can start before) while the other compiles:
##   rust: format, then the workspace built for its tests (every target, benches too) and
##         the Rust tests (dev profile);
##   site: the browser's build (wasm-release) and the site made of it;
## then the browser tests against the dev-profile server the Rust chain built. Clippy (with
## -D warnings) lints each workspace crate while it is compiled, in both builds, the way
## `cargo clippy` itself does it (its driver as rustc's wrapper for the workspace's crates),
## so no crate is checked once and then built again; `make lint` remains the lint alone.
## Each line says its chain; each chain ends with its time. No incremental caches: a
## whole run builds from scratch or not at all, and they would double the disk it takes.
CLIPPY_ARGS_D_WARNINGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
test: export CARGO_INCREMENTAL := 0
test: tools browser python postgres nats
	@set -o pipefail; start=$$(date +%s); \
	export RUSTC_WORKSPACE_WRAPPER=$$(rustup which clippy-driver) CLIPPY_ARGS='$(CLIPPY_ARGS_D_WARNINGS)'; \
	chain() { name=$$1; shift; t=$$(date +%s); \
		{ "$$@" 2>&1; rc=$$?; echo "$$name chain: $$( [ $$rc = 0 ] && echo passed || echo FAILED) in $$(( $$(date +%s) - t )) s"; exit $$rc; } \
		| sed -u "s/^/[$$name] /"; }; \
	chain rust bash -c 'cargo fmt --all -- --check && cargo test --workspace --all-targets --locked --no-run && $(MAKE) --no-print-directory test-rust' & rust=$$!; \
	chain site $(MAKE) --no-print-directory site & site=$$!; \
	wait $$rust; r=$$?; wait $$site; s=$$?; \
	if [ $$r != 0 ] || [ $$s != 0 ]; then echo "make test: a chain failed (see its lines above)"; exit 1; fi; \
	(cd end2end && E2E_SERVER=../target/debug/hybridflow npx playwright test) || exit 1; \
	echo "make test: everything passed in $$(( $$(date +%s) - start )) s"
