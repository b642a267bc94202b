# GenMedia: `make dev` runs the local stack, `make test` runs lint and the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_DIR := infra/node
# checkov has its own venv: it pins many libraries that would conflict with the project's.
CHECKOV_VENV := .venv-checkov
CHECKOV_DIR := infra/checkov

.PHONY: setup dev test lint checkov format token bench clean conformance web web-test browser

WEB_DIR := web
# The studio is rebuilt only when one of its sources (or the lockfile's packages) changed.
WEB_SOURCES := $(shell find $(WEB_DIR)/src $(WEB_DIR)/public -type f 2>/dev/null) \
	$(WEB_DIR)/index.html $(WEB_DIR)/vite.config.ts $(WEB_DIR)/tsconfig.json
# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
CHROMIUM := /usr/bin/chromium

setup: $(VENV)/.installed $(NODE_DIR)/node_modules/.installed $(WEB_DIR)/dist/.built

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_DIR)/node_modules/.installed: $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_DIR)/dist/.built: $(WEB_DIR)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB_DIR) && npm run --silent build
	touch $@

# Debian's package (we are root locally and in CI; elsewhere through sudo).
$(CHROMIUM):
	$$([ "$$(id -u)" = 0 ] || echo sudo) sh -c 'apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium'

browser: $(CHROMIUM)

$(CHECKOV_VENV)/.installed: $(CHECKOV_DIR)/requirements.txt $(CHECKOV_DIR)/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(CHECKOV_DIR)/requirements.txt
	touch $@

dev: setup
	$(PY) -m infra.local $(if $(SCHEDULER_INTERVAL),--scheduler-interval $(SCHEDULER_INTERVAL))

# Vite's dev server (http://127.0.0.1:5173, hot reload) against the stack `make dev` runs:
# /v1 and /config.json are proxied to its gateway (.local/stack.json, or GENMEDIA_GATEWAY).
web: $(WEB_DIR)/node_modules/.installed
	cd $(WEB_DIR) && npx vite

# The studio's unit tests (its API module) and type check.
web-test: $(WEB_DIR)/node_modules/.installed
	cd $(WEB_DIR) && npx tsc --noEmit && npx vitest run

# Offline: no Prisma Cloud policy download or mapping, no PyPI update check; a .tf file that
# does not parse fails the run instead of being skipped. Skips are inline (# checkov:skip=...).
checkov: $(CHECKOV_VENV)/.installed
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE CKV_PARSE_ERROR_FAIL=TRUE \
		$(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --skip-download --compact --quiet

lint: setup checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions/genmedia infra
	$(PY) infra/emulators/firestore/gen_pb_stub.py --check
	$(PY) infra/emulators/tasks/gen_tasks_pb_stub.py --check

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Coverage of functions/genmedia (lines and branches) from the in-process tiers; under 90% fails.
COVERAGE := --cov=functions/genmedia --cov-branch --cov-report=term --cov-fail-under=90

test: lint web-test browser
	$(PY) -m pytest $(COVERAGE) $(PYTEST_ARGS)

# The Firestore conformance suite against our emulator and, where the Google Cloud CLI's
# emulator and java are installed, against Google's too, with a side-by-side table.
conformance: setup
	$(PY) infra/emulators/firestore/conformance.py

token: setup
	@test -n "$(EMAIL)" || (echo "usage: make token EMAIL=you@example.com [ROLE=admin]" >&2; exit 2)
	@$(PY) -m infra.local.token "$(EMAIL)" $(if $(ROLE),--role $(ROLE))

# Every scenario of bench/run.py on fresh stacks; results in bench/results/ (BENCH_ARGS: its options).
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(NODE_DIR)/node_modules $(WEB_DIR)/node_modules $(WEB_DIR)/dist .local
