# make demo: the upload flow on the embedded sandbox.  make test: both test tiers.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-core test-odoo lint bench odoo-available clean

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) -m octopia demo

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

clean:
	rm -rf $(VENV) .pytest_cache build-odoo-test.log
