#!/usr/bin/env bash
# Every check and test, in the order that fails fastest. `make test` runs this after
# installing prerequisites; CI runs `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
features=(--features handoff-inbox/custom-protocol)
step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL for the server's PostgreSQL tests"
HANDOFF_TEST_POSTGRES_URL=$(scripts/postgres-for-tests.sh)
export HANDOFF_TEST_POSTGRES_URL
# Running it again drops the databases the finished tests leave behind.
trap 'scripts/postgres-for-tests.sh >/dev/null || true' EXIT

step "UI: lint, typecheck, unit tests, build"
(cd ui && npm run lint && npm run check && npm test && npm run build)

step "Rust: format and clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets "${features[@]}" -- -D warnings

step "Rust: unit and integration tests (SQLite and PostgreSQL, real keyring)"
scripts/desktop-session.sh cargo test --workspace "${features[@]}"

step "Desktop app end to end (tauri-driver + WebKitWebDriver under Xvfb)"
cargo build --workspace --bins "${features[@]}"
scripts/desktop-session.sh target/e2e-venv/bin/pytest -v -p no:cacheprovider tests/e2e

step "Web inbox end to end (Playwright + Debian's Chromium against handoff-server and the sandbox)"
scripts/web-e2e.sh
