#!/usr/bin/env bash
# Builds Commonplace and runs it with your profile in the platform data directory
# (~/.local/share/commonplace/default), or the one given by --profile / $COMMONPLACE_PROFILE.
#   scripts/run.sh                 getting started: who you are and your communities
#   scripts/run.sh ARGS...         the `commonplace` command line with ARGS
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
base_deps
cargo build --release --locked -p commonplace-cli >&2
bin="$PWD/target/release/commonplace"
cd - >/dev/null
if [ "$#" -gt 0 ]; then
  exec "$bin" "$@"
fi
if "$bin" whoami 2>/dev/null; then
  echo
  "$bin" community list
  echo
  echo "Next: '$bin thread list', '$bin thread new --kind request --title ... --body ...', or '$bin --help'."
else
  echo "Welcome to Commonplace. Create your identity first:"
  echo "  $bin init --name \"Your Name\""
  echo "then found a community:"
  echo "  $bin community create --name \"Your community\" --domain \"What you share\""
  echo "or import one a coordinator sent you:"
  echo "  $bin import community.bundle"
fi
