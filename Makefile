# Shortcuts; the scripts are the source of truth (they also install what is missing).
.PHONY: run test test-quick bench bench-quick
run:
	scripts/run.sh
test:
	scripts/test.sh
test-quick:
	scripts/test.sh --quick
bench:
	cargo run --release --locked -p commonplace-bench -- --json target/bench.json
bench-quick:
	cargo run --release --locked -p commonplace-bench -- --quick
