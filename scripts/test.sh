#!/usr/bin/env bash
# Runs every check and test of Commonplace, installing what it needs first.
#   scripts/test.sh          everything (what CI runs)
#   scripts/test.sh --quick  Rust unit and integration tests only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
base_deps
ensure_nextest
app_deps

quick=0
[ "${1:-}" = "--quick" ] && quick=1

build_ui
if [ "$quick" -eq 0 ]; then
  e2e_deps
  echo "== UI: type check, unit tests" >&2
  (cd ui && npm run --silent check && npm run --silent test)
  echo "== formatting" >&2
  cargo fmt --all -- --check
  echo "== clippy" >&2
  cargo clippy --workspace --all-targets --locked -- -D warnings
  echo "== doc tests" >&2
  cargo test --workspace --doc --locked --quiet
  echo "== benchmarks, quick mode (checks the suite runs; asserts nothing about time)" >&2
  cargo run --locked --quiet -p commonplace-bench -- --quick
  echo "== end to end: the real app through WebDriver under Xvfb" >&2
  scripts/e2e.sh
  echo "== fuzzing, briefly: every decoder of outside bytes for a few seconds (make fuzz for longer)" >&2
  FUZZ_SECONDS="${FUZZ_SECONDS:-5}" scripts/fuzz.sh
fi
# Last, so the run's closing line is the whole suite's summary.
echo "== tests" >&2
cargo nextest run --workspace --locked --profile ci
