# Shortcuts; the scripts are the source of truth (they also install what is missing).
.PHONY: run test test-quick
run:
	scripts/run.sh
test:
	scripts/test.sh
test-quick:
	scripts/test.sh --quick
