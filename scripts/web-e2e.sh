#!/usr/bin/env bash
# The web inbox end to end: a real handoff-server (demo workspace, fresh SQLite in a temp
# dir, serving ui/dist at its own origin) wired to the WhatsApp sandbox, driven by
# Playwright in Debian's Chromium (/usr/bin/chromium; nothing is downloaded).
#
#   scripts/web-e2e.sh                  # the tests (ui/e2e/*.spec.ts)
#   scripts/web-e2e.sh --screenshots    # the docs' PNGs -> docs/screenshots/
#   scripts/web-e2e.sh -- --grep resolve   # anything after -- goes to `playwright test`
#
# HANDOFF_BIN_DIR   where handoff-server and whatsapp-sandbox are (default target/debug)
# HANDOFF_E2E_WEB_DIR  the built UI to serve (default ui/dist, built when missing)
# HANDOFF_E2E_CHROMIUM the browser (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

project=e2e
if [ "${1:-}" = --screenshots ]; then project=screenshots; shift; fi
if [ "${1:-}" = -- ]; then shift; fi

bin=${HANDOFF_BIN_DIR:-target/debug}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
for b in handoff-server whatsapp-sandbox; do
  [ -x "$bin/$b" ] || { echo "web-e2e: $bin/$b not found (cargo build --bins, or set HANDOFF_BIN_DIR)" >&2; exit 1; }
done
export HANDOFF_E2E_CHROMIUM=${HANDOFF_E2E_CHROMIUM:-/usr/bin/chromium}
[ -x "$HANDOFF_E2E_CHROMIUM" ] || { echo "web-e2e: no browser at $HANDOFF_E2E_CHROMIUM (apt-get install chromium)" >&2; exit 1; }
[ -d ui/node_modules/@playwright/test ] || { echo "web-e2e: run npm ci in ui/ first" >&2; exit 1; }

web_dir=${HANDOFF_E2E_WEB_DIR:-ui/dist}
case $web_dir in /*) ;; *) web_dir=$root/$web_dir ;; esac
if [ ! -f "$web_dir/index.html" ]; then
  [ "$web_dir" = "$root/ui/dist" ] || { echo "web-e2e: no index.html in $web_dir" >&2; exit 1; }
  npm --prefix ui run build
elif [ "$web_dir" = "$root/ui/dist" ] && [ -n "$(find ui/src ui/index.html -newer ui/dist/index.html -print -quit)" ]; then
  echo "web-e2e: warning: ui/dist is older than ui/src; testing the old build (npm --prefix ui run build)" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/handoff-web-e2e.XXXXXX")
pids=()
rc=1
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for log in sandbox server; do
      [ -f "$tmp/$log.log" ] || continue
      echo "----- $log.log (last 150 lines) -----"
      tail -n 150 "$tmp/$log.log"
    done
    echo "web-e2e: failed; logs, traces and failure screenshots are in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server_port=$(free_port)
sandbox_port=$(free_port)
while [ "$sandbox_port" = "$server_port" ]; do sandbox_port=$(free_port); done
server=http://127.0.0.1:$server_port
sandbox=http://127.0.0.1:$sandbox_port

# wait_for URL PID NAME: until URL answers, as long as the process lives (at most 20 s).
wait_for() {
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "web-e2e: $3 exited at start" >&2; return 1; }
    sleep 0.1
  done
  echo "web-e2e: $3 did not answer at $1" >&2
  return 1
}

# The sandbox first: the server syncs its message templates from it at start.
SANDBOX_LISTEN=127.0.0.1:$sandbox_port SANDBOX_WEBHOOK_URL=$server/webhooks/whatsapp \
  "$bin/whatsapp-sandbox" > "$tmp/sandbox.log" 2>&1 &
pids+=($!)
wait_for "$sandbox/sandbox/sent" "${pids[-1]}" whatsapp-sandbox

# The screenshots show the manager console's charts over two weeks of demo history.
history=false
if [ "$project" = screenshots ]; then history=true; fi
env -u HANDOFF_DATABASE_URL \
  HANDOFF_LISTEN=127.0.0.1:$server_port HANDOFF_DATA_DIR="$tmp/data" HANDOFF_DEMO=true HANDOFF_DEMO_HISTORY=$history \
  HANDOFF_WEB_DIR="$web_dir" HANDOFF_GRAPH_API_BASE=$sandbox RUST_LOG=${RUST_LOG:-info} \
  "$bin/handoff-server" > "$tmp/server.log" 2>&1 &
pids+=($!)
wait_for "$server/healthz" "${pids[-1]}" handoff-server

echo "web-e2e: server $server, sandbox $sandbox, logs in $tmp"
export HANDOFF_E2E_URL=$server HANDOFF_E2E_SANDBOX_URL=$sandbox HANDOFF_E2E_ARTIFACTS=$tmp/playwright
export HANDOFF_E2E_SCREENSHOTS=${HANDOFF_E2E_SCREENSHOTS:-$root/docs/screenshots}
set +e
(cd ui && npx --no-install playwright test --project="$project" "$@")
rc=$?
set -e
exit "$rc"
