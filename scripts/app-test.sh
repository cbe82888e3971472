#!/usr/bin/env bash
# The app's tests (called by scripts/test.sh after the UI is built):
#   1. every screen of the web UI in headless Chromium at 1280x800 and 360x720, against the real
#      core: the page's Tauri IPC goes to postern-ui-bridge on a copy of a world of real nodes
#      (ui/tests/world.mjs, built with the postern CLI over loopback) (screenshots:
#      target/ui-screenshots/);
#   2. the real app window under Xvfb through tauri-driver + WebKitWebDriver: first run, invite,
#      and a message between two app instances over the loopback transport, shown live, with its
#      desktop notification recorded by a mock notification daemon (python3-dbusmock) on a
#      private session bus; then the system sleeps and wakes (a mock logind on a stand-in system
#      bus): both nodes pause and serve again, and mail flows after (screenshots:
#      target/app-screenshots/).
set -euo pipefail
cd "$(dirname "$0")/.."
# Everything below on a private D-Bus session bus (the notifications go there, nowhere else).
if [ -z "${POSTERN_APP_TEST_BUS:-}" ]; then
  exec env POSTERN_APP_TEST_BUS=1 dbus-run-session -- "$0" "$@"
fi

echo "== UI screens (headless Chromium, real core)"
cargo build --locked -q -p postern-api -p postern-cli
(cd ui && node tests/screens.mjs)

echo "== app window (Xvfb, tauri-driver, WebKitWebDriver)"
cargo build --locked -q -p postern-app --features custom-protocol
if ! command -v tauri-driver >/dev/null; then
  cargo install tauri-driver --version '^2' --locked -q
fi
venv=target/app-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q selenium==4.51.0
fi
work=$(mktemp -d -t postern-app-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
Xvfb :87 -screen 0 1280x900x24 >/dev/null 2>&1 & pids+=($!)
# Debian's python3 (where python3-dbusmock is), whatever python3 is first on the PATH.
/usr/bin/python3 -m dbusmock --session --template notification_daemon \
  -l "$work/notifications.log" >"$work/dbusmock.log" 2>&1 & pids+=($!)
export POSTERN_NOTIFY_LOG="$work/notifications.log"
# A stand-in system bus with a mock logind, whose PrepareForSleep the test sends (the apps
# follow the system's sleep there).
dbus-daemon --session --nofork --address="unix:path=$work/system-bus" >/dev/null 2>&1 & pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/system-bus"
for _ in $(seq 50); do [ -S "$work/system-bus" ] && break; sleep 0.1; done
/usr/bin/python3 -m dbusmock --system --template logind >"$work/logind.log" 2>&1 & pids+=($!)
export DISPLAY=:87
export POSTERN_LOOPBACK="$work/registry"
mkdir -p "$POSTERN_LOOPBACK"
# One driver per app instance, each with its own data directory (the app inherits the driver's
# environment).
POSTERN_DATA_DIR="$work/alice" tauri-driver --port 4544 --native-port 4545 >"$work/driver-a.log" 2>&1 & pids+=($!)
POSTERN_DATA_DIR="$work/bob" tauri-driver --port 4546 --native-port 4547 >"$work/driver-b.log" 2>&1 & pids+=($!)
sleep 2
"$venv/bin/python" src-tauri/tests/window.py "$PWD/target/debug/postern-app" 4544 4546
