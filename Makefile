# Handoff: the two commands a newcomer needs are `make demo` and `make test`.
FEATURES := --features handoff-inbox/custom-protocol

.PHONY: demo test deps build e2e bench lint

## Install what is missing, build, and run the server + WhatsApp sandbox + desktop app.
demo: deps build
	scripts/demo.sh

## Install what is missing and run every check and test (what CI runs).
test: deps
	scripts/test-all.sh

deps:
	scripts/install-deps.sh

build: deps
	npm --prefix ui run build
	cargo build --workspace --bins $(FEATURES)

## Only the desktop end-to-end test.
e2e: build
	scripts/desktop-session.sh target/e2e-venv/bin/pytest -v -p no:cacheprovider tests/e2e

## Every benchmark, each with its baseline (BENCHMARKS.md): server ingest, the desktop
## app's cold sync and escalation-to-notification latency, its memory, the inbox list.
bench: build
	cargo run --release -p handoff-server -- bench
	cargo build --release -p desktop-bench
	target/release/desktop-bench
	scripts/desktop-session.sh python3 scripts/bench-desktop-memory.py
	node ui/bench/run.mjs

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets $(FEATURES) -- -D warnings
	cd ui && npm run lint && npm run check
