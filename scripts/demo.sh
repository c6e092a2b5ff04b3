#!/usr/bin/env bash
# The demo: handoff-server on SQLite (demo workspace), the WhatsApp sandbox with
# simulated customers, and Handoff Inbox logged in as the demo agent Ana.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.demo
mkdir -p "$state"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

export HANDOFF_LISTEN=127.0.0.1:8080 HANDOFF_DATA_DIR="$state/server" HANDOFF_DEMO=true HANDOFF_DEMO_HISTORY=true HANDOFF_WEB_DIR=ui/dist \
       HANDOFF_GRAPH_API_BASE=http://127.0.0.1:8090
export SANDBOX_LISTEN=127.0.0.1:8090 SANDBOX_WEBHOOK_URL=http://127.0.0.1:8080/webhooks/whatsapp

# The sandbox first: the server syncs its message templates from it at start (the
# sandbox retries its webhooks like Meta, so the order is otherwise free).
target/debug/whatsapp-sandbox --simulate --simulate-gap-secs 15 > "$state/sandbox.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:8090/sandbox/sent >/dev/null 2>&1 && break; sleep 0.1; done
target/debug/handoff-server > "$state/server.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS http://127.0.0.1:8080/healthz >/dev/null || { echo "server did not start; see $state/server.log"; exit 1; }

cat <<TXT
Handoff demo
  server      http://127.0.0.1:8080   (log: $state/server.log); the web inbox is there too
  sandbox     http://127.0.0.1:8090   (log: $state/sandbox.log); simulated customers write in every 15 s
  agents      ana@demo.handoff.dev, ben@demo.handoff.dev, maya@demo.handoff.dev (manager); password handoff-demo
  bot token   hoa_demo_bot_token
  Write as a customer yourself:
    curl -X POST localhost:8090/sandbox/customers/4915100000000/messages -H 'content-type: application/json' \\
         -d '{"text":"I want to talk to a human","name":"You"}'
Close the app window to stop everything.
TXT

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: running headless under Xvfb (screenshots only). On a desktop the window opens normally."
  exec scripts/desktop-session.sh xvfb-run -a -s "-screen 0 1280x800x24" env \
    HANDOFF_AUTOLOGIN_URL=http://127.0.0.1:8080 HANDOFF_AUTOLOGIN_EMAIL=ana@demo.handoff.dev \
    HANDOFF_AUTOLOGIN_PASSWORD=handoff-demo HANDOFF_DATA_DIR="$state/app" target/debug/handoff-inbox
fi
HANDOFF_AUTOLOGIN_URL=http://127.0.0.1:8080 HANDOFF_AUTOLOGIN_EMAIL=ana@demo.handoff.dev HANDOFF_AUTOLOGIN_PASSWORD=handoff-demo \
  HANDOFF_DATA_DIR="$state/app" target/debug/handoff-inbox
