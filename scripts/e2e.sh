#!/usr/bin/env bash
# End-to-end tests of the real desktop app through WebDriver (tauri-driver + WebKitWebDriver)
# under Xvfb, with the `commonplace` CLI as a second member. Screenshots: ui/e2e/screenshots/.
#   scripts/e2e.sh   builds what is missing, then runs ui/e2e/*.test.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
app_deps
e2e_deps
build_ui
cargo build --locked -p commonplace-app -p commonplace-cli >&2
target="${CARGO_TARGET_DIR:-$PWD/target}"
export COMMONPLACE_APP="$target/debug/commonplace-app"
export COMMONPLACE_CLI="$target/debug/commonplace"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
rm -rf ui/e2e/screenshots
# WebKit renders in software under Xvfb (no GPU needed).
export LIBGL_ALWAYS_SOFTWARE=1
cd ui
exec xvfb-run -a -s "-screen 0 1280x800x24" node --test --test-concurrency=1 --test-timeout=600000 e2e/
