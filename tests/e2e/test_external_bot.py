"""An external automation, as its own process (tests/bots/llm_agent.py), against the real
server binary and the WhatsApp sandbox: it answers, reports low confidence and so hands
off, is paused while a person owns the thread, gets the transcript back, and resumes."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import ARTIFACTS, Proc, free_port, http_json, wait_until

BOTS = Path(__file__).resolve().parents[1] / "bots"
CUSTOMER = "4917600000001"


def api(method, url, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def login(server, email):
    return http_json("POST", f"{server}/v1/auth/login", {"email": email, "password": "handoff-demo"})["token"]


def test_an_llm_agent_hands_off_and_resumes(fresh_product):
    server, sandbox = fresh_product["server"], fresh_product["sandbox"]
    maya = login(server, "maya@demo.handoff.dev")
    port = free_port()
    auto = api("POST", f"{server}/v1/automations", maya, {"name": "LLM agent", "webhook_url": f"http://127.0.0.1:{port}/hooks"})
    env = os.environ.copy()
    env.update({"HANDOFF_URL": server, "BOT_TOKEN": auto["token"], "BOT_SECRET": auto["secret"]})
    bot = Proc("llm-agent", [sys.executable, str(BOTS / "llm_agent.py"), str(port)], env)
    try:
        bot_log = lambda: http_json("GET", f"http://127.0.0.1:{port}/log")
        wait_until("the bot", lambda: isinstance(bot_log(), list), 20)
        say = lambda text: http_json("POST", f"{sandbox}/sandbox/customers/{CUSTOMER}/messages", {"text": text, "name": "Jonas"})
        business = lambda: [s["body"].get("text", {}).get("body") for s in http_json("GET", f"{sandbox}/sandbox/sent")]

        # 1. It answers what it knows.
        say("Hi, what are your opening hours?")
        wait_until("the bot's answer", lambda: "We're open Monday to Friday, 9 to 6." in business(), 20)

        # 2. Unsure: its answer is withheld and the conversation handed to people.
        say("My blender arrived damaged, what can I do?")
        entry = wait_until("the low-confidence report", lambda: [e for e in bot_log() if e.get("heard", "").startswith("My blender")], 20)[0]
        assert entry["status"] == 200 and entry["result"]["message"] is None
        handoff = entry["result"]["handoff"]
        assert handoff["trigger"] == "low_confidence" and handoff["confidence"] == 0.31
        assert handoff["context"]["withheld_bot_reply"] == "You could try gluing it?"
        wait_until("the acknowledgement", lambda: any("A person will reply here shortly" in (t or "") for t in business()), 20)
        assert "You could try gluing it?" not in business()

        # 3. Paused: the customer's next message does not reach the bot.
        heard_before = len([e for e in bot_log() if "heard" in e])
        say("Hello? Is someone there?")
        conv_id = handoff["conversation_id"]
        ana = login(server, "ana@demo.handoff.dev")
        api("PUT", f"{server}/v1/me/availability", ana, {"availability": "online"})
        wait_until("the assignment", lambda: api("GET", f"{server}/v1/conversations/{conv_id}", ana)["conversation"]["state"] == "assigned", 20)
        api("POST", f"{server}/v1/conversations/{conv_id}/messages", ana, {"client_id": "e2e-1", "text": "Hi Jonas, a replacement ships today."})
        assert len([e for e in bot_log() if "heard" in e]) == heard_before, "a paused automation hears nothing"

        # 4. Resolved: the bot gets the transcript and the note, and resumes.
        api("POST", f"{server}/v1/conversations/{conv_id}/resolve", ana, {"note": "Replacement RMA-5521 shipped"})
        back = wait_until("the hand-back", lambda: [e for e in bot_log() if e["event"] == "conversation.returned_to_automation"], 20)[0]
        assert back["note"] == "Replacement RMA-5521 shipped"
        assert "Hello? Is someone there?" in back["transcript"] and "Hi Jonas, a replacement ships today." in back["transcript"]
        assert back["status"] == 201
        wait_until("the bot's follow-up", lambda: "Glad our team could help! I'm here if you need anything else." in business(), 20)
        say("Thanks! How long does shipping take?")
        wait_until("the bot again", lambda: "Shipping takes 3 to 5 days." in business(), 20)
        assert not [e for e in bot_log() if e["event"] == "rejected"], "every webhook verified"
        status = api("GET", f"{server}/v1/workflows/status", auto["token"])
        assert status["executions"]["active"] >= 1
    finally:
        bot.stop()
        (ARTIFACTS / "llm-agent-log.json").write_text(json.dumps(http_json_safe(port), indent=2))


def http_json_safe(port):
    try:
        return http_json("GET", f"http://127.0.0.1:{port}/log")
    except Exception:  # noqa: BLE001 - the bot may be gone already
        return []
