# make demo: the upload flow on the embedded sandbox.  make test: both test tiers.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo odoo-demo test test-core test-odoo lint bench bench-odoo odoo-available clean

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) -m octopia demo

# The addon in a fresh Odoo database with its demo data and the sandbox: http://127.0.0.1:8069
odoo-demo: $(VENV)/.installed
	tools/odoo_demo.sh

test: test-core
	@odoo_bin=$$(tools/find_odoo.sh); \
	if [ -n "$$odoo_bin" ]; then \
		echo "=== Odoo tier: RUNNING with $$odoo_bin ==="; $(MAKE) --no-print-directory test-odoo; \
	else \
		echo "=== Odoo tier: SKIPPED, no Odoo 18 found (set ODOO_BIN or put odoo on PATH) ==="; \
	fi

test-core: $(VENV)/.installed
	@echo "=== Odoo-free tier: RUNNING (pytest) ==="
	$(PY) -m pytest -q

test-odoo:
	tools/test_odoo.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	tools/pylint_odoo.sh $(VENV)

bench: $(VENV)/.installed
	$(PY) bench/bench_core.py
	@odoo_bin=$$(tools/find_odoo.sh); \
	if [ -n "$$odoo_bin" ]; then \
		echo "=== Odoo bench: RUNNING with $$odoo_bin ==="; $(MAKE) --no-print-directory bench-odoo; \
	else \
		echo "=== Odoo bench: SKIPPED, no Odoo 18 found (set ODOO_BIN or put odoo on PATH) ==="; \
	fi

# A fresh Odoo database, measured and dropped. BENCH_ODOO_ARGS: bench/bench_odoo.py --help
bench-odoo: $(VENV)/.installed
	PYTHON=$(PY) bench/bench_odoo.sh $(BENCH_ODOO_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build-odoo-test.log build-bench-odoo.log
