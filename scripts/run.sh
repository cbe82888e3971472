#!/usr/bin/env bash
# Set up and run Postern. With no arguments: the headless node (`postern run`). With arguments:
# any `postern` command, e.g. `scripts/run.sh identity list`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build-essential pkg-config libssl-dev
cargo build --release --locked -p postern-cli
exec target/release/postern "${@:-run}"
