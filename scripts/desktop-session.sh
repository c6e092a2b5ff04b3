#!/usr/bin/env bash
# Runs a command the way the desktop tests need: inside a private D-Bus session with an
# unlocked GNOME Keyring (the Secret Service the OS keyring uses on Linux) and a kernel
# keyring session. Keyring files live in a throwaway XDG_DATA_HOME, never the user's.
#   scripts/desktop-session.sh cargo test -p inbox-core
set -euo pipefail
if [ "${HANDOFF_IN_DESKTOP_SESSION:-}" = 1 ]; then exec "$@"; fi
export HANDOFF_IN_DESKTOP_SESSION=1
scratch=$(mktemp -d -t handoff-session.XXXXXX)
# Keep the command's exit status; the desktop portal may leave a FUSE mount in run/doc.
trap 'status=$?; fusermount -uz "$scratch/run/doc" 2>/dev/null || true; rm -rf "$scratch" 2>/dev/null || true; exit $status' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
# No desktop portal or accessibility bus in a test session: they only add noise.
export GTK_USE_PORTAL=0 NO_AT_BRIDGE=1
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
inner='
  eval "$(printf %s handoff-test | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  export GNOME_KEYRING_CONTROL
  exec "$@"
'
if command -v keyctl >/dev/null 2>&1; then
  dbus-run-session -- keyctl session - bash -c "$inner" _ "$@"
else
  dbus-run-session -- bash -c "$inner" _ "$@"
fi
