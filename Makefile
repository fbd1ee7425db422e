# Shortcuts; the scripts are the source of truth (they also install what is missing).
.PHONY: run test test-quick e2e bench bench-quick fuzz
run:
	scripts/run.sh
test:
	scripts/test.sh
test-quick:
	scripts/test.sh --quick
e2e:
	scripts/e2e.sh
# Every fuzz target for FUZZ_SECONDS (default 60) each, with AFL++ (docs/fuzzing.md);
# `make fuzz FUZZ_SECONDS=600`, or scripts/fuzz.sh <target>... for some.
fuzz:
	scripts/fuzz.sh
# The automerge-repo references need Node and the pinned packages; without them those
# references are reported as skipped. npm 11 refuses `npm ci` for this lock file (it wants
# every platform's optional cbor-extract build listed): `npm install` then installs the same
# pinned versions.
bench:
	if command -v npm >/dev/null; then (cd bench/automerge-repo && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save)); fi
	cargo build --release --locked -p commonplace-cli -p commonplace-bench
	$${CARGO_TARGET_DIR:-target}/release/commonplace-bench --json target/bench.json
bench-quick:
	cargo run --release --locked -p commonplace-bench -- --quick
