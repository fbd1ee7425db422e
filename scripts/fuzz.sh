#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder of outside bytes, with AFL++ through cargo-afl on
# the stable toolchain (see docs/fuzzing.md).
#   scripts/fuzz.sh                  every target for FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh frame bundle     only these targets
# The seed corpus is fuzz/corpus/<target> (valid encodings, written by `seeds write`); what a
# run finds goes to FUZZ_OUT (default target/fuzz). A crash fails the run, and is replayed
# without AFL++ so that its panic is printed; it then becomes a regression test in its crate.
# Hangs are listed, and do not fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
base_deps
ensure_afl

seconds="${FUZZ_SECONDS:-60}"
out="${FUZZ_OUT:-target/fuzz}"
# Kept apart from the workspace's build: everything here is built with AFL++'s instrumentation.
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$target_dir/afl}"
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(frame batch announce bundle invite ticket backup)

(cd fuzz && cargo afl build --release --locked --quiet)
bin="$CARGO_TARGET_DIR/release"

# No UI, no CPU binding (the machine is shared), and no core dumps to wait for.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_QUIET=1
mkdir -p "$out"
failed=0
for t in "${targets[@]}"; do
  rm -rf "${out:?}/$t"
  # -m: a limit (MiB) on the target's address space. An instrumented target reserves about
  # 1.1 GiB before it reads anything (below 1.5 GiB AFL++ sees every run time out), so 2 GiB
  # leaves ~900 MiB, far above every decoder's documented bound: an allocation sized from an
  # unchecked length is a crash. -t: a run that takes over a second is a hang.
  if ! cargo afl fuzz -V "$seconds" -m 2048 -t 1000 -i "fuzz/corpus/$t" -o "$out/$t" "$bin/$t" \
    >"$out/$t.log" 2>&1; then
    echo "fuzz $t: AFL++ failed, see $out/$t.log" >&2
    tail -n 20 "$out/$t.log" >&2
    failed=1
    continue
  fi
  stats="$out/$t/default/fuzzer_stats"
  execs="$(awk -F' *: *' '$1=="execs_done" {print $2}' "$stats")"
  rate="$(awk -F' *: *' '$1=="execs_per_sec" {print $2}' "$stats")"
  paths="$(awk -F' *: *' '$1=="corpus_count" {print $2}' "$stats")"
  cover="$(awk -F' *: *' '$1=="bitmap_cvg" {print $2}' "$stats")"
  crashes=("$out/$t/default/crashes"/id:*)
  hangs=("$out/$t/default/hangs"/id:*)
  n_crash=0
  n_hang=0
  [ -e "${crashes[0]}" ] && n_crash="${#crashes[@]}"
  [ -e "${hangs[0]}" ] && n_hang="${#hangs[@]}"
  echo "fuzz $t: ${seconds}s, $execs runs ($rate/s), $paths inputs, coverage $cover, $n_crash crashes, $n_hang hangs" >&2
  # A hang is reported, not failed on: AFL++'s one-second limit applies to an instrumented
  # build on a shared machine, and Automerge is known to take long on some malformed changes
  # (docs/fuzzing.md). Replay a hang with `seeds replay` and `seeds changes` to judge it.
  for f in "${hangs[@]}"; do
    [ -e "$f" ] && echo "fuzz $t: hang $f" >&2
  done
  if [ "$n_crash" -gt 0 ]; then
    failed=1
    for f in "${crashes[@]}"; do
      [ -e "$f" ] || continue
      echo "== $f" >&2
      "$bin/seeds" replay "$t" "$f" >&2 || true
    done
  fi
done
exit "$failed"
