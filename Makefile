# phinance-env: `make start` runs the main job on embedded defaults, `make test` the tests.
# `python` is 3.12 here: .python-version selects it under pyenv.
PY ?= python
BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install start test test-ray soak bench clean

$(BIN)/.installed: pyproject.toml uv.lock
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m uv sync --frozen
	touch $@

install: $(BIN)/.installed

# Export the AWM data folder (bar store and initial state DB built on first use), then
# serve phinance_01 exactly as a stock AWM environment: MCP at http://127.0.0.1:8001/mcp
start: install
	$(BIN)/phinance-env export
	$(BIN)/awm env start --scenario phinance_01 --envs_load_path gen_envs_finance.jsonl --port 8001

test: install
	$(BIN)/python -m pytest -q -m "not ray"

# The long reliability runs: 2 minutes of 32-client load, 300 fuzz examples per operation.
soak: install
	PHINANCE_SOAK_SECONDS=120 PHINANCE_FUZZ_EXAMPLES=300 $(BIN)/python -m pytest -q -s tests/reliability

# The Ray backend on a local Ray instance (installs the optional ray extra; ~1 min).
test-ray: install
	$(PY) -m uv sync --frozen --extra ray
	$(BIN)/python -m pytest -q -m ray

bench: install
	$(BIN)/python benchmarks/core.py
	$(BIN)/phinance-env export
	$(BIN)/python benchmarks/awm_env.py
	$(BIN)/python benchmarks/episodes.py

clean:
	rm -rf .venv .pytest_cache
