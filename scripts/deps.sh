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

# AFL++ through cargo-afl, for scripts/fuzz.sh: it runs on the stable toolchain. Installing
# cargo-afl builds AFL++ from the source it ships (make and a C compiler, from base_deps; no
# LLVM: the optional LLVM plugins are not used). The version matches fuzz/Cargo.lock's `afl`.
ensure_afl() {
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  if ! cargo afl --version 2>/dev/null | grep -q "0.18.2"; then
    echo "Installing cargo-afl" >&2
    cargo install cargo-afl --version 0.18.2 --locked --force
  fi
  # Built at install; built again here if the Rust toolchain changed since (it says so, and
  # does nothing, when AFL++ is already built for this toolchain).
  cargo afl config --build >/dev/null 2>&1 || true
}

base_deps() {
  ensure_apt build-essential pkg-config iproute2
  ensure_rust
}

# Node.js for the UI build and its tests: 20.19 or newer (Vite 8).
ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    ensure_apt nodejs npm
  fi
  local v
  v="$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a*100+b)')"
  if [ "$v" -lt 2019 ]; then
    echo "Node.js $(node --version) is too old for the UI build: install Node.js 20.19 or newer, then run this again." >&2
    exit 1
  fi
}

# What the desktop app (Tauri 2 on WebKitGTK) needs to build, and its UI's packages.
app_deps() {
  base_deps
  ensure_apt libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev \
    libssl-dev pkg-config
  ensure_node
  ensure_ui_packages
}

# The UI's npm packages, exactly as locked; reinstalled only when the lock file changed.
ensure_ui_packages() {
  local stamp=ui/node_modules/.commonplace-lock
  if [ ! -f "$stamp" ] || ! cmp -s ui/package-lock.json "$stamp"; then
    echo "Installing the UI's npm packages" >&2
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
    cp ui/package-lock.json "$stamp"
  fi
}

# The built UI the app embeds (ui/dist); rebuilt only when a UI source changed.
build_ui() {
  if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/vite.config.ts ui/package-lock.json -newer ui/dist/index.html -print -quit 2>/dev/null)" ]; then
    echo "Building the UI" >&2
    (cd ui && npm run --silent build)
  fi
}

# What the end-to-end tests need: a virtual display, WebKit's WebDriver and tauri-driver.
e2e_deps() {
  ensure_apt webkit2gtk-driver xvfb xauth
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "Installing tauri-driver" >&2
    cargo install tauri-driver --locked
  fi
}
