# make demo: the upload flow on the embedded sandbox.  make test: both test tiers.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OLDEST_VENV ?= .venv-oldest
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo odoo-demo odoo-demo-clean test test-core test-core-oldest test-odoo lint readme lock bench bench-odoo clean wheel test-wheel

# Pinned: requirements-dev.lock is the exact set, changed only by `make lock`.
$(VENV)/.installed: requirements-dev.txt requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt -c requirements-dev.lock
	touch $@

# The oldest lxml/requests that the supported Odoo versions pin (requirements-oldest.txt).
$(OLDEST_VENV)/.installed: requirements-oldest.txt
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements-oldest.txt
	touch $@

# Re-resolve requirements-dev.txt to today's newest versions and write them to the lock.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install $(PIP_FLAGS) -r requirements-dev.txt
	{ sed -n '/^#/p' requirements-dev.lock; \
	  build/lock-venv/bin/python -m pip freeze --all | grep -vE '^(pip|setuptools|wheel)=='; \
	} > requirements-dev.lock.new && mv requirements-dev.lock.new requirements-dev.lock
	rm -rf build/lock-venv
	@echo "requirements-dev.lock rewritten: review the diff, run make test, commit."

demo: $(VENV)/.installed
	$(PY) -m octopia demo

# The addon in a fresh Odoo database with its demo data and the sandbox: http://127.0.0.1:8069
odoo-demo: $(VENV)/.installed
	tools/odoo_demo.sh

# Drop the demo database and its files.
odoo-demo-clean:
	tools/odoo_demo.sh --drop

# The Odoo tier runs once per Odoo found (tools/find_odoo.sh), or says it was skipped.
test: test-core test-core-oldest test-odoo test-wheel

test-core: $(VENV)/.installed
	@echo "=== Odoo-free tier: RUNNING (pytest) on the locked set: $$($(PY) tools/core_versions.py) ==="
	$(PY) -m pytest -q

test-core-oldest: $(OLDEST_VENV)/.installed
	@echo "=== Odoo-free tier: RUNNING (pytest) on Odoo's oldest pins: $$($(OLDEST_VENV)/bin/python tools/core_versions.py) ==="
	$(OLDEST_VENV)/bin/python -m pytest -q -p no:cacheprovider

test-odoo:
	tools/test_odoo.sh

# One wheel per Odoo series in dist/ (tools/build_wheels.sh; docs/packaging.rst).
wheel: $(VENV)/.installed
	PYTHON=$(PY) tools/build_wheels.sh

# Each Odoo found installs the addon from its series' wheel alone, this checkout on no path.
test-wheel: $(VENV)/.installed
	PYTHON=$(PY) tools/test_wheel.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	tools/pylint_odoo.sh $(VENV)
	$(PYTHON) tools/gen_readme.py --check

# README.rst from __manifest__.py and readme/*.rst (tools/gen_readme.py; docs/development.rst).
readme:
	$(PYTHON) tools/gen_readme.py

bench: $(VENV)/.installed
	$(PY) bench/bench_core.py
	@odoo_bin=$$(tools/find_odoo.sh --one); \
	if [ -n "$$odoo_bin" ]; then \
		echo "=== Odoo bench: RUNNING with $$odoo_bin ==="; $(MAKE) --no-print-directory bench-odoo; \
	else \
		echo "=== Odoo bench: SKIPPED, no Odoo 18.0 or 19.0 found (set ODOO_BIN or put odoo18/odoo19 on PATH) ==="; \
	fi

# A fresh Odoo database, measured and dropped. BENCH_ODOO_ARGS: bench/bench_odoo.py --help
bench-odoo: $(VENV)/.installed
	PYTHON=$(PY) bench/bench_odoo.sh $(BENCH_ODOO_ARGS)

clean:
	rm -rf $(VENV) $(OLDEST_VENV) .pytest_cache dist build/wheel build/wheel-site build-odoo-test*.log build-bench-odoo.log
