"""Fixtures that stand up the whole product for the desktop end-to-end test.

Real parts only: the handoff-server binary on SQLite, the WhatsApp sandbox, the built
Handoff Inbox binary driven by tauri-driver + WebKitWebDriver under Xvfb, desktop
notifications through a real notification daemon (dunst) watched on D-Bus, and the
token in the Secret Service keyring. Run it through `make e2e` (or `make test`), which
builds the binaries and wraps it in scripts/desktop-session.sh.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
ARTIFACTS = TARGET / "e2e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout=30.0, every=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def http_json(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


class Proc:
    def __init__(self, name, args, env=None, log_dir=ARTIFACTS, pass_fds=()):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env or os.environ.copy(),
                                  pass_fds=pass_fds)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
        self.log.close()


@pytest.fixture(scope="session")
def display():
    """A real X server (Xvfb) and a notification daemon on the session bus."""
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS"), "run inside scripts/desktop-session.sh (needs a D-Bus session)"
    # Xvfb picks a free display and writes its number to the pipe.
    read_fd, write_fd = os.pipe()
    xvfb = Proc("xvfb", ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                pass_fds=(write_fd,))
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        num = pipe.readline().strip()
    assert num, f"Xvfb did not start: see {xvfb.log_path}"
    os.environ["DISPLAY"] = f":{num}"
    wait_until("Xvfb", lambda: subprocess.run(["xdpyinfo"], capture_output=True).returncode == 0, 20)
    monitor = Proc("dbus-monitor", ["dbus-monitor", "interface='org.freedesktop.Notifications'"])
    # `dunstctl context` picks a notification action through dmenu: this one picks the
    # first line naming the action written in dunst-action (Open unless a test says).
    action_file = ARTIFACTS / "dunst-action"
    action_file.write_text("Open")
    dmenu = ARTIFACTS / "dmenu.sh"
    dmenu.write_text(f'#!/bin/sh\ntee -a {ARTIFACTS / "dmenu-input.log"} | grep -m1 -- "$(cat {action_file})"\n')
    dmenu.chmod(0o755)
    dunstrc = ARTIFACTS / "dunstrc"
    dunstrc.write_text(f"[global]\n    dmenu = {dmenu}\n")
    dunst = Proc("dunst", ["dunst", "-config", str(dunstrc)])
    wait_until(
        "the notification daemon",
        lambda: "org.freedesktop.Notifications"
        in subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
             "org.freedesktop.DBus.ListNames"], capture_output=True, text=True).stdout,
        20,
    )
    yield {"notifications_log": ARTIFACTS / "dbus-monitor.log", "action_file": action_file}
    for p in (dunst, monitor, xvfb):
        p.stop()


@pytest.fixture(scope="session")
def product(display):
    """handoff-server (SQLite, demo data) + the WhatsApp sandbox, wired to each other."""
    yield from start_product("desktop")


@pytest.fixture
def fresh_product():
    """A product of its own for one test (no desktop needed)."""
    yield from start_product("bot")


def start_product(name):
    data = Path(tempfile.mkdtemp(prefix=f"handoff-{name}-"))
    server_port, sandbox_port = free_port(), free_port()
    server_url = f"http://127.0.0.1:{server_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = os.environ.copy()
    env.update({
        "HANDOFF_LISTEN": f"127.0.0.1:{server_port}",
        "HANDOFF_DATA_DIR": str(data / "server"),
        "HANDOFF_DEMO": "true",
        "HANDOFF_GRAPH_API_BASE": sandbox_url,
        "SANDBOX_LISTEN": f"127.0.0.1:{sandbox_port}",
        "SANDBOX_WEBHOOK_URL": f"{server_url}/webhooks/whatsapp",
    })
    sandbox = Proc(f"{name}-sandbox", [str(TARGET / "debug" / "whatsapp-sandbox")], env)
    servers = [Proc(f"{name}-server", [str(TARGET / "debug" / "handoff-server")], env)]
    wait_until("the server", lambda: urllib.request.urlopen(f"{server_url}/healthz", timeout=2).status == 200, 60)
    wait_until("the sandbox", lambda: http_json("GET", f"{sandbox_url}/sandbox/sent") == [], 30)

    def stop_server():
        servers[-1].stop()

    def start_server():
        servers.append(Proc(f"{name}-server-{len(servers)}", [str(TARGET / "debug" / "handoff-server")], env))
        wait_until("the server again", lambda: urllib.request.urlopen(f"{server_url}/healthz", timeout=2).status == 200, 60)

    yield {"server": server_url, "sandbox": sandbox_url, "data": data, "stop_server": stop_server,
           "start_server": start_server, "env": env}
    servers[-1].stop()
    sandbox.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def app(product):
    """The real Handoff Inbox binary in a WebDriver session (tauri-driver + WebKitWebDriver)."""
    from selenium import webdriver
    from selenium.webdriver.common.options import ArgOptions

    binary = TARGET / "debug" / "handoff-inbox"
    assert binary.exists(), f"{binary} missing: build it with --features custom-protocol"
    driver_bin = shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")
    port, native = free_port(), free_port()
    env = os.environ.copy()
    # The app's own home: "start at login" writes ~/.config/autostart there, not in yours.
    home = product["data"] / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home),
        "HANDOFF_DATA_DIR": str(product["data"] / "app"),
        "HANDOFF_KEYRING_NAMESPACE": f"e2e-{os.getpid()}",
        # CSV exports land here instead of ~/Downloads.
        "HANDOFF_EXPORT_DIR": str(product["data"] / "exports"),
        "RUST_LOG": "info,handoff_inbox=debug,inbox_core=debug",
    })
    tauri_driver = Proc("tauri-driver", [driver_bin, "--port", str(port), "--native-port", str(native)], env)
    wait_until("tauri-driver", lambda: socket.create_connection(("127.0.0.1", port), timeout=1), 20)
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    opts.set_capability("tauri:options", {"application": str(binary), "args": []})
    driver = webdriver.Remote(f"http://127.0.0.1:{port}", options=opts)
    driver.implicitly_wait(0)
    driver.handoff_env = env
    yield driver
    driver.quit()
    tauri_driver.stop()
