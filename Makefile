# `make run` starts everything on the embedded default; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean i18n-extract i18n-update i18n-compile

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/tracker dev

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

# The dashboard's catalogs (README: "Ngôn ngữ và giờ / Language and time"). tests/test_translations.py
# extracts with the same keywords and fails on a string without a Vietnamese translation or a stale .mo.
CATALOGS := tracker/translations
I18N_KEYWORDS := -k lazy_gettext -k lazy_pgettext:1c,2

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --add-comments=TRANSLATORS: --sort-by-file \
		--project=journey-tracker --copyright-holder=journey-tracker -o $(CATALOGS)/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --ignore-obsolete

i18n-compile: install
	$(BIN)/pybabel compile -d $(CATALOGS) --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache
