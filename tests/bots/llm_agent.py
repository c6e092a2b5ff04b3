"""A stand-in for an LLM agent, run as its own process by tests/e2e/test_external_bot.py.

It receives Handoff's project webhooks (verifying their Standard Webhooks signatures),
answers customers through POST /v1/conversations/{id}/bot-messages with a confidence,
reports low confidence on what it cannot handle (so Handoff hands off), and resumes the
conversation when people return it. Everything it did is at GET /log.

    HANDOFF_URL=... BOT_TOKEN=... BOT_SECRET=whsec_... python llm_agent.py PORT
"""

import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

SERVER = os.environ["HANDOFF_URL"]
TOKEN = os.environ["BOT_TOKEN"]
HOOK = Webhook(os.environ["BOT_SECRET"])
LOG = []
LOCK = threading.Lock()


def log(entry):
    with LOCK:
        LOG.append(entry)


def think(text):
    """The 'model': (reply, confidence, fallback)."""
    t = text.lower()
    if "hours" in t:
        return "We're open Monday to Friday, 9 to 6.", 0.96, False
    if "shipping" in t:
        return "Shipping takes 3 to 5 days.", 0.91, False
    if "refund" in t or "damaged" in t:
        return "You could try gluing it?", 0.31, False
    return "Sorry, could you rephrase that?", 0.5, True


def reply(conversation_id, text, confidence, fallback):
    body = json.dumps({"text": text, "confidence": confidence, "fallback": fallback,
                       "workflow": {"workflow_id": "support-llm", "execution_id": f"conv-{conversation_id}", "node_id": "reply"}})
    req = urllib.request.Request(f"{SERVER}/v1/conversations/{conversation_id}/bot-messages", data=body.encode(), method="POST",
                                 headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def handle(event):
    kind, data = event["type"], event["data"]
    if kind == "message.created" and data["message"]["author"] == "customer":
        text = data["message"]["text"] or ""
        answer, confidence, fallback = think(text)
        status, result = reply(data["conversation_id"], answer, confidence, fallback)
        log({"event": kind, "heard": text, "answered": answer, "confidence": confidence, "status": status, "result": result})
    elif kind == "conversation.returned_to_automation":
        transcript = [m.get("text") for m in data["transcript"]]
        note = data.get("resolution_note")
        status, result = reply(data["conversation_id"], "Glad our team could help! I'm here if you need anything else.", 0.95, False)
        log({"event": kind, "transcript": transcript, "note": note, "status": status})
    else:
        log({"event": kind})


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        try:
            event = HOOK.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except Exception as e:  # noqa: BLE001 - any verification failure is a 401
            log({"event": "rejected", "error": str(e)})
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        # Answer after acknowledging, as a real agent would (webhooks want fast 2xx).
        threading.Thread(target=handle, args=(event,), daemon=True).start()

    def do_GET(self):
        with LOCK:
            payload = json.dumps(LOG).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
