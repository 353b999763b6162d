# phinance-env: `make start` runs the main job on embedded defaults, `make test` the tests.
# `python` is 3.12 here: .python-version selects it under pyenv.
PY ?= python
BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install start test bench clean

$(BIN)/.installed: pyproject.toml uv.lock
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m uv sync --frozen
	touch $@

install: $(BIN)/.installed

start: install
	$(BIN)/phinance-env project '^GSPC' --as-of 2018-06-29

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/core.py

clean:
	rm -rf .venv .pytest_cache
