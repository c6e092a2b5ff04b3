#!/usr/bin/env python3
"""The desktop app's memory: the app and its WebKit processes (RSS and PSS, from
/proc/<pid>/smaps_rollup) holding 5,000 synced conversations, against the same app
showing only its login window (the empty-window baseline), both in this run.
Target: at most 1.3 times the baseline. Run through `make bench` (it needs a display:
Xvfb here, and scripts/desktop-session.sh for the keyring)."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
APP = Path(os.environ.get("HANDOFF_APP_BINARY", TARGET / "debug" / "handoff-inbox"))
SEEDER = TARGET / "release" / "desktop-bench"
RATIO_TARGET = 1.3
SETTLE_SECS = 8


def descendants(pid):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def memory(pid):
    """(rss_kib, pss_kib, [process names]) of pid and all its descendants."""
    rss = pss = 0
    names = []
    for p in descendants(pid):
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            names.append(Path(f"/proc/{p}/comm").read_text().strip())
        except OSError:
            continue
        for line in rollup.splitlines():
            key, _, value = line.partition(":")
            if key == "Rss":
                rss += int(value.split()[0])
            elif key == "Pss":
                pss += int(value.split()[0])
    return rss, pss, names


def run_app(data_dir, env_extra, ready):
    env = dict(os.environ, HANDOFF_DATA_DIR=str(data_dir), HANDOFF_KEYRING_NAMESPACE=f"bench-{os.getpid()}", **env_extra)
    app = subprocess.Popen([str(APP)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not ready():
            if time.time() > deadline or app.poll() is not None:
                raise SystemExit(f"the app did not get ready (exit {app.poll()})")
            time.sleep(0.2)
        time.sleep(SETTLE_SECS)
        return memory(app.pid)
    finally:
        app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()


def window_shown():
    out = subprocess.run(["xdotool", "search", "--name", "Handoff Inbox"], capture_output=True, text=True).stdout
    return bool(out.strip())


def main():
    conversations = int(os.environ.get("BENCH_CONVERSATIONS", "5000"))
    if not APP.exists() or not SEEDER.exists():
        sys.exit(f"build first: {APP} and {SEEDER}")
    xvfb = None
    if not os.environ.get("DISPLAY"):
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            os.environ["DISPLAY"] = f":{pipe.readline().strip()}"
    seeder = subprocess.Popen([str(SEEDER), "serve-seeded", "--conversations", str(conversations)],
                              stdout=subprocess.PIPE, text=True)
    work = Path(tempfile.mkdtemp(prefix="handoff-membench-"))
    try:
        line = seeder.stdout.readline().strip()
        if not line.startswith("ready "):
            sys.exit(f"the seeded server did not start: {line!r}")
        url = line.split()[1]

        empty = run_app(work / "empty", {}, window_shown)

        db = work / "loaded" / "inbox.db"

        def synced():
            if not window_shown() or not db.exists():
                return False
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
                    return c.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] >= conversations
            except sqlite3.Error:
                return False

        loaded = run_app(work / "loaded", {
            "HANDOFF_AUTOLOGIN_URL": url,
            "HANDOFF_AUTOLOGIN_EMAIL": "maya@demo.handoff.dev",
            "HANDOFF_AUTOLOGIN_PASSWORD": "handoff-demo",
        }, synced)
    finally:
        seeder.send_signal(signal.SIGINT)
        seeder.wait(30)
        if xvfb:
            xvfb.terminate()
        shutil.rmtree(work, ignore_errors=True)

    ratio_rss, ratio_pss = loaded[0] / empty[0], loaded[1] / empty[1]
    verdict = "met" if max(ratio_rss, ratio_pss) <= RATIO_TARGET else "MISSED"
    print(f"desktop app memory ({APP.relative_to(ROOT) if APP.is_relative_to(ROOT) else APP}; processes: {', '.join(sorted(set(loaded[2])))}):")
    print(f"  with {conversations} conversations synced  RSS {loaded[0] / 1024:7.1f} MiB  PSS {loaded[1] / 1024:7.1f} MiB")
    print(f"  baseline: login window only     RSS {empty[0] / 1024:7.1f} MiB  PSS {empty[1] / 1024:7.1f} MiB")
    print(f"  ratio RSS {ratio_rss:.2f}, PSS {ratio_pss:.2f}   target <= {RATIO_TARGET}: {verdict}")


if __name__ == "__main__":
    main()
