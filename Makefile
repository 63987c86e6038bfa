# Hybridflow: `make run` serves the app, `make test` runs every check. Both install what is
# missing first, and skip what is already there.
SHELL := /bin/bash
.DEFAULT_GOAL := run

CARGO_LEPTOS_VERSION := 0.3.5
# The wasm-bindgen CLI must match the library version locked in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
NODE_BIN := $(CURDIR)/end2end/node_modules/.bin
# wasm-opt comes from the npm package binaryen (Debian's is too old to keep hydration working).
export PATH := $(NODE_BIN):$(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR := never
# Leptos's type-erased components (the wasm a fifth smaller, builds faster). Server and
# browser must agree on it (hydration reads what the server rendered), so every cargo
# command here builds with it — and each crate is built once per profile.
export RUSTFLAGS := --cfg erase_components

.PHONY: run test tools browser build lint test-rust test-e2e clean-data fuzz screenshots postgres nats cluster

CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TARGET ?= text
FUZZ_SECONDS ?= 60

## Install what is missing (idempotent).
tools:
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@if ! cargo leptos --version 2>/dev/null | grep -q '$(CARGO_LEPTOS_VERSION)'; then \
		echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 12 minutes, once per machine)"; \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked; fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q ' $(WASM_BINDGEN_VERSION)$$'; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; fi
	@if [ ! -x $(NODE_BIN)/wasm-opt ] || [ ! -x $(NODE_BIN)/playwright ] \
		|| [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
		cd end2end && npm ci --no-audit --no-fund; fi

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

## The release build, and the bundle compressed once (brotli and gzip files the server
## sends as they are).
build: tools
	cargo leptos build --release --split
	node end2end/build/precompress.mjs target/site

## Build in release mode and serve at http://127.0.0.1:3000 on ./data/hybridflow.db.
run: build
	./target/release/hybridflow

## The distributed mode: three processes on 127.0.0.1:3001-3003 sharing PostgreSQL and NATS
## (installed and started first, as for the tests); Ctrl-C stops the three.
cluster: build
	server/services/cluster.sh

lint: tools
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p app --lib --no-default-features --features hydrate --target wasm32-unknown-unknown --locked -- -D warnings

## PostgreSQL on 127.0.0.1:55432, data in data/postgres/, and NATS with JetStream on
## 127.0.0.1:54222, data in data/nats/ (installed from Debian's packages if missing; started
## if not running): what the distributed mode and its tests use.
postgres:
	@server/services/postgres.sh start
nats:
	@server/services/nats.sh start

## The Rust tests; the store conformance suite runs each test on PostgreSQL too, and the
## cluster tests run three processes on PostgreSQL and NATS.
test-rust: tools postgres nats
	HYBRIDFLOW_TEST_POSTGRES=$$(server/services/postgres.sh url) \
	HYBRIDFLOW_TEST_NATS=$$(server/services/nats.sh url) \
	cargo test --workspace --locked

test-e2e: build browser
	cd end2end && npx playwright test

## Fuzz one importer (native, article, conductor, text, mermaid, bpmn, bpmn_flows) or the document parser (document)
## for FUZZ_SECONDS with libFuzzer, from the corpus in app/fuzz/corpus/<target> (new inputs
## that reach new code are added there). libFuzzer's instrumentation flags are nightly-only,
## so the stable toolchain is asked to accept them (RUSTC_BOOTSTRAP).
fuzz:
	@cargo fuzz --version 2>/dev/null | grep -q '$(CARGO_FUZZ_VERSION)' || \
		cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
	cd app && RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer none $(FUZZ_TARGET) \
		-- -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1

## Every check: format, clippy (ssr and hydrate builds), Rust tests, browser tests.
test: lint test-rust test-e2e
