#!/usr/bin/env bash
# Build the desktop app's Debian package with the Tauri CLI (from npm): the .deb lands in
# target/release/bundle/deb/. Not part of the test command (a release build takes ~10 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libxdo-dev \
  libayatana-appindicator3-dev librsvg2-dev file
(cd ui && npm install --no-audit --no-fund --loglevel=error && npm run --silent build)
ui/node_modules/.bin/tauri build --bundles deb
ls -l target/release/bundle/deb/*.deb
