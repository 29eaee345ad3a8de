# The two commands of the README's quick start are `make run` and `make check`.
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)

.PHONY: install run demo check test lint types format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,embedded]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/accountability run $(ARGS)

demo: $(STAMP)
	$(BIN)/accountability run --demo $(ARGS)

check: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/check

test: $(STAMP)
	$(BIN)/pytest $(ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/accountability bench $(ARGS)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
