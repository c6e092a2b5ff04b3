#!/usr/bin/env bash
# Installs what building, running and testing Handoff needs on Debian/Ubuntu, skipping
# whatever is already there: system packages, Rust (if missing), Node packages for ui/,
# tauri-driver, and a Python venv with the end-to-end test's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pkgs=(
  build-essential pkg-config curl libssl-dev libdbus-1-dev
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libxdo-dev
  xvfb x11-utils xdotool webkit2gtk-driver dbus-x11 dunst gnome-keyring libsecret-tools keyutils imagemagick
  postgresql python3 python3-venv nodejs npm chromium
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere (nodesource, nvm): do not fight a newer one.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
# python3 may come from pyenv; its venv module is then built in.
if python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing=("${missing[@]/python3-venv}"); missing=("${missing[@]/python3}")
fi
read -r -a missing <<< "${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  # dpkg has been seen to fail once reading an archive; a second try works.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node $node_major is too old for Vite 7; installing Node 22 from the npm registry"
  as_root npm install -g node@22
  hash -r
fi

if ! command -v cargo >/dev/null 2>&1; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

# ui/: reinstall only when the lockfile changed.
stamp=ui/node_modules/.handoff-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
  (cd ui && npm ci --no-audit --no-fund)
  cp ui/package-lock.json "$stamp"
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version "^2"
fi

venv=target/e2e-venv
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s tests/e2e/requirements.txt "$venv/.requirements"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/e2e/requirements.txt
  cp tests/e2e/requirements.txt "$venv/.requirements"
fi
