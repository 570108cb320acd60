# Set-up on a fresh machine is two commands: `make demo` and `make test` (see README.md).
# Order matters: torch==2.13.0 (the CPU build on this disk) is installed before anything that
# depends on torch, or pip pulls a multi-GB CUDA build. White/card modes never need torch.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip
VS      = $(VENV)/bin/vitrina-sync
PLUGINS = plugins/kaspi plugins/wildberries plugins/ozon
PLUGIN_ARGS = $(foreach p,$(PLUGINS),$(if $(wildcard $(p)/pyproject.toml),-e $(p)))

.PHONY: demo test install install-test models warm system-deps bench lint clean translations

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.base: $(VENV)/bin/python pyproject.toml
	$(PIP) install -q -e . $(PLUGIN_ARGS)
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[gen,test]" $(PLUGIN_ARGS)
	touch $@

install: $(VENV)/.base
install-test: $(VENV)/.test system-deps

# Debian's chromium (browser tests, driven by playwright with executable_path), redis-server
# (the many-machines test) and LibreOffice Calc (a real consumer of written-back XLSX files).
# Installed only where missing, and only where apt-get can run.
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v redis-server >/dev/null || ! command -v soffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core redis-server >/dev/null \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null) \
	      || echo "system-deps: apt-get failed; browser, redis-server and LibreOffice tests will be skipped"; \
	  else echo "system-deps: no root/apt: browser and redis-server tests will be skipped"; fi; \
	fi

models: $(VENV)/.base
	$(VS) models fetch u2netp

# rembg imports pymatting, whose numba kernels compile on first import (~60 s once).
warm: $(VENV)/.base
	$(PY) -c "import rembg" 2>/dev/null || true
	$(PY) -c "from vitrina_sync.imaging import refine; refine.warm()"

demo: install models warm
	$(VS) run examples/catalog.xlsx

test: install-test models warm
	$(PY) -m pytest -q -p no:cacheprovider --durations=12

bench: install-test models warm
	$(PIP) install -q -e ".[gen,test,bench]" $(PLUGIN_ARGS)
	$(PY) bench/bench_sync.py
	$(PY) bench/bench_white.py
	$(PY) bench/bench_masks.py
	$(PY) bench/bench_packs.py
	$(PY) bench/bench_gsheet.py
	$(PY) bench/bench_drive.py
	$(PY) bench/bench_webhook.py
	$(PY) bench/bench_review.py
	$(PY) bench/bench_gen_overhead.py
	@# GPU only: each says so and exits 2 where torch sees no CUDA device
	-$(PY) bench/gpu_checks.py
	-$(PY) bench/gpu_scene.py

lint:
	$(VENV)/bin/ruff check vitrina_sync tests plugins bench

clean:
	rm -rf examples/vitrina-out bench/out test-artifacts

# The review pages' catalogs: extract every marked text from the web app, merge it into each
# language's messages.po (new texts arrive empty: tests/test_i18n.py fails until they are
# translated), then compile the .mo files the server reads (committed, shipped as package data).
BABEL ?= $(VENV)/bin/pybabel
TRANSLATIONS = vitrina_sync/translations
translations:
	@test -x $(BABEL) || { echo "translations: $(BABEL) missing: run make install first"; exit 2; }
	$(BABEL) extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  --project vitrina-sync --omit-header -o $(TRANSLATIONS)/messages.pot .
	for lang in en ru kk; do \
	  if [ -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang --no-fuzzy-matching --ignore-pot-creation-date; \
	  else $(BABEL) init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; fi; \
	done
	$(BABEL) compile -d $(TRANSLATIONS) --statistics
