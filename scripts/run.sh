#!/usr/bin/env bash
# Builds Commonplace and starts the desktop app with your profile in the platform data
# directory (~/.local/share/commonplace/default), or the one given by --profile DIR /
# $COMMONPLACE_PROFILE. Installs what it needs first (Debian/Ubuntu).
#   scripts/run.sh [--profile DIR] [--relay default|none|URL] [--no-mdns]   the desktop app
#   scripts/run.sh cli ARGS...                                             the `commonplace` CLI
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
target="${CARGO_TARGET_DIR:-$PWD/target}"
if [ "${1:-}" = "cli" ]; then
  shift
  base_deps
  cargo build --release --locked -p commonplace-cli >&2
  cd - >/dev/null
  exec "$target/release/commonplace" "$@"
fi
app_deps
build_ui
cargo build --release --locked -p commonplace-app >&2
cd - >/dev/null
exec "$target/release/commonplace-app" "$@"
