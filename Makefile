# `make run` runs the pipeline on the shipped data; `make test` runs the
# tests. Both create .venv first when it is missing or out of date.
# Pass runner options with ARGS, e.g. make run ARGS="--max-trials 6".
PYTHON := .venv/bin/python
ARGS ?=

.PHONY: run test bench env browser

env:
	@scripts/bootstrap.sh

browser:
	@scripts/install_browser.sh

run: env
	$(PYTHON) runner.py $(ARGS)

test: env browser
	$(PYTHON) -m pytest $(ARGS)

bench: env
	$(PYTHON) bench/bench_pipeline.py $(ARGS)
