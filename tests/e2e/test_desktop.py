"""The foundation slice through the real desktop app: log in, a customer asks for a
person, the conversation appears with a desktop notification, the agent replies, the
reply reaches the (sandboxed) Graph API in Meta's format, the agent resolves."""

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import ARTIFACTS, ROOT, http_json, wait_until

CUSTOMER = "5511987654321"
REPLY = "Olá Rafael! I'm Ana from Acme. Your order #4821 left our warehouse today."


def find(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css)


def finds(driver, css):
    return driver.find_elements(By.CSS_SELECTOR, css)


def test_agent_answers_an_escalated_whatsapp_conversation(app, product, display):
    driver = app
    sandbox = product["sandbox"]

    # Log in as the demo agent.
    wait_until("the login screen", lambda: finds(driver, "#login-submit"), 30)
    url = find(driver, "#server-url")
    url.clear()
    url.send_keys(product["server"])
    find(driver, "#email").send_keys("ana@demo.handoff.dev")
    find(driver, "#password").send_keys("handoff-demo")
    find(driver, "#login-submit").click()
    wait_until("the inbox", lambda: finds(driver, '[data-testid="inbox"]'), 30)
    assert find(driver, '[data-testid="agent-name"]').text.strip().startswith("Ana")
    wait_until("the live connection", lambda: find(driver, '[data-testid="connection"]').get_attribute("data-connected") == "true", 30)

    # The tokens (access and refresh) are in the Secret Service keyring, not in the app's files.
    keyring = subprocess.run(["secret-tool", "search", "--all", "--unlock", "service", f"dev.handoff.inbox.e2e-{os.getpid()}"],
                             capture_output=True, text=True)
    assert '"access":"hos_' in keyring.stdout and '"refresh":"hor_' in keyring.stdout, keyring.stdout + keyring.stderr
    for f in Path(product["data"] / "app").rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"hos_" not in data and b"hor_" not in data, f"a token in {f}"

    # A customer asks the bot, then for a person.
    say = lambda text: http_json("POST", f"{sandbox}/sandbox/customers/{CUSTOMER}/messages", {"text": text, "name": "Rafael Souza"})
    assert say("Hi! How long does shipping take to Brazil?")["server_status"] == 200
    wait_until("the bot's answer", lambda: http_json("GET", f"{sandbox}/sandbox/sent"), 20)
    assert say("My order never arrived. I want to talk to a human.")["server_status"] == 200

    # It appears in the inbox, assigned to Ana...
    item = wait_until("the escalated conversation", lambda: [
        e for e in finds(driver, '[data-testid="conversation-item"]') if e.get_attribute("data-state") == "assigned"
    ], 30)[0]
    # ...and a desktop notification was sent over D-Bus.
    log = display["notifications_log"]
    wait_until("the Notify call on D-Bus", lambda: "Rafael Souza needs a person" in log.read_text(errors="replace"), 20)
    assert "member=Notify" in log.read_text(errors="replace")

    # The thread shows the whole history, the bot's part included, and why.
    item.click()
    wait_until("the thread", lambda: finds(driver, '[data-testid="thread"]'), 10)
    authors = wait_until("four messages", lambda: (lambda a: a if len(a) >= 4 else None)(
        [m.get_attribute("data-author") for m in finds(driver, '[data-testid="message"]')]), 15)
    assert authors[:4] == ["customer", "bot", "customer", "bot"], authors
    assert "human" in find(driver, '[data-testid="handoff-reason"]').text
    # Opening her conversation showed the customer blue ticks on their last message.
    reads = wait_until("the read receipt", lambda: http_json("GET", f"{sandbox}/sandbox/reads"), 10)
    assert reads[0]["status"] == "read" and reads[0]["message_id"].startswith("wamid.")

    # Ana replies from the composer.
    box = find(driver, "#composer-input")
    box.send_keys(REPLY)
    find(driver, "#send-reply").click()
    sent = wait_until("the reply at the Graph API", lambda: [
        s for s in http_json("GET", f"{sandbox}/sandbox/sent") if s["body"].get("text", {}).get("body") == REPLY
    ], 30)
    assert len(sent) == 1
    body = dict(sent[0]["body"])
    assert body.pop("biz_opaque_callback_data").startswith("handoff:"), "our idempotency key travels with the send"
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": REPLY, "preview_url": False},
    }
    # The sandbox's signed status webhooks bring the ticks to "read".
    wait_until("the read ticks", lambda: [
        m for m in finds(driver, '[data-testid="message"][data-author="agent"]') if m.get_attribute("data-status") == "read"
    ], 30)

    # The customer sends a photo: the server fetches it from WhatsApp, the app shows it.
    photo = (ROOT / "icons" / "128x128.png").read_bytes()
    sent_photo = http_json("POST", f"{sandbox}/sandbox/customers/{CUSTOMER}/media", {
        "kind": "image", "mime_type": "image/png", "data_base64": base64.b64encode(photo).decode(), "caption": "This is what arrived"})
    assert sent_photo["server_status"] == 200
    img = wait_until("the photo in the thread", lambda: finds(driver, '[data-testid="media"][data-media-status="ready"] img'), 30)[0]
    assert img.get_attribute("src").startswith("data:image/png;base64,")
    wait_until("the photo to load", lambda: driver.execute_script("return arguments[0].naturalWidth", img) == 128, 10)
    row = find(driver, '[data-testid="conversation-item"]')
    assert "Rafael Souza" in driver.execute_script("return arguments[0].textContent", row), "the customer keeps their name"
    driver.execute_script("arguments[0].closest('[data-testid=\"message\"]').scrollIntoView({block: 'end'})", img)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "inbox.png"
    driver.save_screenshot(str(shot))
    if os.environ.get("HANDOFF_UPDATE_SCREENSHOT"):
        shutil.copy(shot, ROOT / "docs" / "screenshot-inbox.png")

    # Resolve: the conversation goes back to automation.
    find(driver, "#resolve").click()
    wait_until("the note field", lambda: finds(driver, "#resolve-note"), 10)
    find(driver, "#resolve-note").send_keys("Tracking number sent")
    find(driver, "#resolve-confirm").click()
    wait_until("back to automation", lambda: [
        e for e in finds(driver, '[data-testid="conversation-item"]') if e.get_attribute("data-state") == "automation"
    ], 15)
    # The bot answers the customer again.
    before = len([s for s in http_json("GET", f"{sandbox}/sandbox/sent")])
    say("Thanks! And what are your opening hours?")
    wait_until("the bot's answer", lambda: any(
        "Monday to Friday" in s["body"].get("text", {}).get("body", "") for s in http_json("GET", f"{sandbox}/sandbox/sent")[before:]
    ), 20)


def api(method, url, token=None, body=None):
    import json
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def test_claim_from_a_notification_offline_reply_transfer_and_deep_link(app, product, display):
    """Continues the first test's session: Ana has no room, so a new escalation waits in
    the queue; she claims it from the desktop notification, replies while the server is
    down (queued, sent once when it is back), transfers it to Ben with a note, and a
    handoff:// link brings another thread to the front."""
    driver = app
    server, sandbox = product["server"], product["sandbox"]
    wait_until("the inbox", lambda: finds(driver, '[data-testid="inbox"]'), 30)
    token = lambda email: api("POST", f"{server}/v1/auth/login", body={"email": email, "password": "handoff-demo"})["token"]
    omar, ben_token = token("omar@demo.handoff.dev"), token("ben@demo.handoff.dev")
    people = {a["email"]: a["id"] for a in api("GET", f"{server}/v1/agents", omar)}
    ana, ben = people["ana@demo.handoff.dev"], people["ben@demo.handoff.dev"]
    api("PATCH", f"{server}/v1/agents/{ana}", omar, {"capacity": 0})
    api("PUT", f"{server}/v1/me/availability", ben_token, {"availability": "online"})
    api("PATCH", f"{server}/v1/agents/{ben}", omar, {"capacity": 0})

    wa = "5511977776666"
    http_json("POST", f"{sandbox}/sandbox/customers/{wa}/messages", {"text": "I want to talk to a human", "name": "Joana Lima"})
    log = display["notifications_log"]
    wait_until("the queue notification", lambda: "Joana Lima is waiting in the queue" in log.read_text(errors="replace"), 30)
    conv = wait_until("the conversation on the server", lambda: [
        c for c in api("GET", f"{server}/v1/conversations", omar) if c["contact"].get("wa_id") == wa and c["state"] == "waiting"
    ], 20)[0]["id"]

    # Claim, from the notification (dunst's context menu picks the "Claim" action).
    # `dunstctl context` returns at once; dunst runs dmenu (which reads the file) later,
    # so the file keeps saying Claim.
    display["action_file"].write_text("Claim")
    subprocess.run(["dunstctl", "context"], timeout=20, check=True)
    invoked = re.compile(r'member=ActionInvoked\n\s+uint32 \d+\n\s+string "claim"')
    wait_until("the Claim action on D-Bus", lambda: invoked.search(log.read_text(errors="replace")), 20)
    wait_until("the claim on the server", lambda: api("GET", f"{server}/v1/conversations/{conv}", omar)["conversation"]["assignee_id"] == ana, 20)
    wait_until("the claimed thread on screen", lambda: find(driver, '[data-testid="thread"]').get_attribute("data-conversation-id") == str(conv), 20)
    assert "Joana Lima needs a person" not in log.read_text(errors="replace"), "no 'assigned to you' notice for one's own claim"

    # The server goes away: the reply waits in the outbox, shown as queued.
    product["stop_server"]()
    wait_until("the app to see the drop", lambda: find(driver, '[data-testid="connection"]').get_attribute("data-connected") == "false", 30)
    text = "Hi Joana, Ana here. Sent while our server was down."
    wait_until("the composer", lambda: finds(driver, "#composer-input"), 10)[0].send_keys(text)
    find(driver, "#send-reply").click()
    wait_until("the queued reply", lambda: [
        m for m in finds(driver, '[data-testid="message"][data-author="agent"]')
        if text in m.text and m.get_attribute("data-status") == "queued"
    ], 10)
    assert not [s for s in http_json("GET", f"{sandbox}/sandbox/sent") if s["body"].get("text", {}).get("body") == text]

    # Back: the reply is sent, once.
    product["start_server"]()
    wait_until("the reply at the Graph API", lambda: [
        s for s in http_json("GET", f"{sandbox}/sandbox/sent") if s["body"].get("text", {}).get("body") == text
    ], 60)
    wait_until("the reply no longer queued", lambda: [
        m for m in finds(driver, '[data-testid="message"][data-author="agent"]')
        if text in m.text and m.get_attribute("data-status") not in ("queued", "failed")
    ], 30)
    assert len([s for s in http_json("GET", f"{sandbox}/sandbox/sent") if s["body"].get("text", {}).get("body") == text]) == 1

    # Transfer to Ben with a note.
    find(driver, "#transfer").click()
    wait_until("Ben in the transfer list", lambda: finds(driver, f'#transfer-target option[value="agent:{ben}"]'), 15)[0].click()
    find(driver, "#transfer-note").send_keys("Refund approved; please send the return label.")
    find(driver, "#transfer-confirm").click()
    detail = wait_until("the transfer on the server", lambda: (lambda d: d if d["conversation"]["assignee_id"] == ben else None)(
        api("GET", f"{server}/v1/conversations/{conv}", omar)), 20)
    assert detail["handoffs"][-1]["transfer_note"] == "Refund approved; please send the return label."

    # A handoff:// link (a second launch) brings Rafael's thread to the front.
    rafael = [c for c in api("GET", f"{server}/v1/conversations", omar) if c["contact"].get("wa_id") == CUSTOMER][0]["id"]
    env = dict(driver.handoff_env, DISPLAY=os.environ["DISPLAY"])
    second = subprocess.run([str(ROOT / "target" / "debug" / "handoff-inbox"), f"handoff://conversation/{rafael}"],
                            env=env, timeout=30, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    wait_until("the linked thread on screen", lambda: find(driver, '[data-testid="thread"]').get_attribute("data-conversation-id") == str(rafael), 20)

    # Start at login, from the settings menu: an XDG autostart entry that starts the app
    # in the tray (the app runs with its own HOME in this test).
    entry = product["data"] / "home" / ".config" / "autostart" / "Handoff Inbox.desktop"
    assert not entry.exists()
    find(driver, '[data-testid="settings-button"]').click()
    box = wait_until("the start-at-login switch", lambda: [
        b for b in finds(driver, '[data-testid="settings-panel"] input[type="checkbox"]') if b.is_enabled()
    ], 10)[0]
    box.click()
    wait_until("the autostart entry", lambda: entry.exists(), 10)
    assert "--minimized" in entry.read_text() and "handoff-inbox" in entry.read_text()
    wait_until("the switch to settle", lambda: box.is_enabled() and box.is_selected(), 10)
    box.click()
    wait_until("the autostart entry removed", lambda: not entry.exists(), 10)


def test_a_manager_reassigns_an_at_risk_conversation_from_the_board(app, product, display):
    """Maya, a manager, signs in to the same app, opens the board, sees a conversation
    of Ana's at risk of missing its first-response target, and reassigns it to Ben in
    one step. Ben's app (a headless inbox-sync on the same desktop) shows him the
    notification; the board follows the change live; the audit log has it."""
    from conftest import Proc, TARGET

    driver = app
    server, sandbox = product["server"], product["sandbox"]
    token = lambda email: api("POST", f"{server}/v1/auth/login", body={"email": email, "password": "handoff-demo"})["token"]
    omar = token("omar@demo.handoff.dev")
    people = {a["email"]: a["id"] for a in api("GET", f"{server}/v1/agents", omar)}
    ana, ben = people["ana@demo.handoff.dev"], people["ben@demo.handoff.dev"]
    # First replies are due within 20 s (at risk after 15 s).
    targets = {"first_response_secs": 20, "next_response_secs": 600, "resolution_secs": 3600}
    api("PUT", f"{server}/v1/settings/sla", omar, {p: targets for p in ("urgent", "high", "normal", "low")} | {
        "warning_ratio": 0.75, "pause_while_waiting_on_customer": True, "breach_action": "notify"})

    # Ben's app: signed in, with desktop notifications.
    env = dict(os.environ, HANDOFF_PASSWORD="handoff-demo", HANDOFF_KEYRING_NAMESPACE=f"e2e-ben-{os.getpid()}")
    ben_sync = Proc("ben-sync", [str(TARGET / "debug" / "inbox-sync"), "--data-dir", str(product["data"] / "ben"),
                                 "--login", server, "ben@demo.handoff.dev", "--notify"], env)
    try:
        wait_until("Ben's app online", lambda: "connected" in ben_sync.log_path.read_text(errors="replace"), 30)

        # Lucia asks for a person; Omar gives her to Ana (who has no room left).
        wa = "5511955554444"
        http_json("POST", f"{sandbox}/sandbox/customers/{wa}/messages", {"text": "I need to talk to a person", "name": "Lucia Prado"})
        conv = wait_until("Lucia's handoff", lambda: [
            c for c in api("GET", f"{server}/v1/conversations", omar) if c["contact"].get("wa_id") == wa and c["state"] != "automation"
        ], 20)[0]["id"]
        api("POST", f"{server}/v1/conversations/{conv}/assign", omar, {"agent_id": ana})

        # Ana signs out; Maya signs in.
        wait_until("the inbox", lambda: finds(driver, '[data-testid="inbox"]'), 30)
        find(driver, "#logout").click()
        wait_until("the login screen", lambda: finds(driver, "#login-submit"), 30)
        url = find(driver, "#server-url")
        url.clear()
        url.send_keys(server)
        email = find(driver, "#email")
        email.clear()
        email.send_keys("maya@demo.handoff.dev")
        find(driver, "#password").send_keys("handoff-demo")
        find(driver, "#login-submit").click()
        wait_until("Maya's inbox", lambda: finds(driver, '[data-testid="inbox"]'), 30)
        assert find(driver, '[data-testid="agent-name"]').text.strip().startswith("Maya")

        # The board: Lucia's conversation, Ana's, turns at risk.
        wait_until("the board link", lambda: finds(driver, '[data-testid="nav-board"]'), 20)[0].click()
        row_css = f'[data-testid="board-row"][data-conversation-id="{conv}"]'
        row = wait_until("Lucia at risk on the board", lambda: [
            r for r in finds(driver, row_css) if r.get_attribute("data-at-risk") == "true"
        ], 40)[0]
        assert "Ana" in row.find_element(By.CSS_SELECTOR, '[data-testid="board-assignee"]').text
        driver.save_screenshot(str(ARTIFACTS / "board.png"))

        # Reassign to Ben, in one step.
        row.find_element(By.CSS_SELECTOR, '[data-testid="board-assign"]').click()
        wait_until("Ben in the picker", lambda: finds(driver, f'[data-testid="assign-option"][data-agent-id="{ben}"]'), 10)[0].click()
        wait_until("Ben owns it on the server", lambda: api("GET", f"{server}/v1/conversations/{conv}", omar)["conversation"]["assignee_id"] == ben, 20)
        wait_until("the board shows Ben", lambda: "Ben" in find(driver, f'{row_css} [data-testid="board-assignee"]').text, 20)

        # Ben hears of it, on his desktop.
        log = display["notifications_log"]
        wait_until("Ben's notification", lambda: "Lucia Prado needs a person" in log.read_text(errors="replace"), 30)
        assert f"escalated {conv}" in ben_sync.log_path.read_text(errors="replace")

        # The audit log says who did it.
        audit = api("GET", f"{server}/v1/audit", omar)
        moved = [e for e in audit if e["action"] == "conversation.overridden" and e["entity_id"] == conv]
        assert moved and moved[0]["actor_name"].startswith("Maya"), moved

        # The metrics page draws its charts; a table exports to a CSV file on disk.
        find(driver, '[data-testid="nav-metrics"]').click()
        wait_until("the escalation chart", lambda: finds(driver, '[data-testid="chart-escalation"] canvas'), 30)
        wait_until("the triggers' CSV button", lambda: [
            b for b in finds(driver, '[data-testid="csv-triggers"]') if b.is_enabled()
        ], 30)[0].click()
        exports = product["data"] / "exports"
        saved = wait_until("the CSV file", lambda: list(exports.glob("handoffs-by-trigger*.csv")), 20)[0]
        lines = saved.read_text().splitlines()
        assert lines[0] == "Trigger,Handoffs" and len(lines) >= 2, lines
        driver.save_screenshot(str(ARTIFACTS / "metrics.png"))
    finally:
        ben_sync.stop()
