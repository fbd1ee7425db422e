#!/usr/bin/env bash
# Installs what building and testing Commonplace needs on a fresh Debian/Ubuntu machine.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (it skips what is there).
set -euo pipefail

_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: a C toolchain and pkg-config for the -sys crates.
ensure_apt() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}" >&2
    _sudo apt-get update -qq
    _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
      exit 1
    fi
  fi
}

ensure_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "Installing cargo-nextest" >&2
    cargo install cargo-nextest --locked
  fi
}

base_deps() {
  ensure_apt build-essential pkg-config iproute2
  ensure_rust
}
