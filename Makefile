# phinance-env: `make start` runs the main job on embedded defaults, `make test` the tests.
# `python` is 3.12 here: .python-version selects it under pyenv.
PY ?= python
BIN := .venv/bin
export UV_COMPILE_BYTECODE := 1

.PHONY: install start test test-ray test-upstream soak bench clean

$(BIN)/.installed: pyproject.toml uv.lock
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m uv sync --frozen --extra openenv
	touch $@

install: $(BIN)/.installed

# Export the AWM data folder (bar store and initial state DB built on first use), then
# serve phinance_01 exactly as a stock AWM environment: MCP at http://127.0.0.1:8001/mcp
start: install
	$(BIN)/phinance-env export
	$(BIN)/awm env start --scenario phinance_01 --envs_load_path gen_envs_finance.jsonl --port 8001

test: install
	$(BIN)/python -m pytest -q -m "not ray and not upstream"

# The long reliability runs: 2 minutes of 32-client load, 300 fuzz examples per operation,
# 10,000 episodes through the shared host (disk, memory, open files flat; ~5 min).
soak: install
	PHINANCE_SOAK_SECONDS=120 PHINANCE_FUZZ_EXAMPLES=300 PHINANCE_SOAK_EPISODES=10000 $(BIN)/python -m pytest -q -s tests/reliability

# The Ray backend (installs the optional ray extra beside openenv; ~4 min): a local Ray instance,
# and an existing cluster, a `ray start --head` held to 127.0.0.1 with token authentication.
test-ray: install
	$(PY) -m uv sync --frozen --extra openenv --extra ray
	$(BIN)/python -m pytest -q -m ray

# Upstream AWM's `awm agent --scenario ... --task_id N` and `awm verify`, which the PyPI
# release lacks: in a separate venv with an upstream source tree, e.g. a git checkout.
UPSTREAM := .venv-upstream
test-upstream:
	@test -n "$(AWM_SRC)" || { echo "usage: make test-upstream AWM_SRC=path/to/agent-world-model"; exit 2; }
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m uv venv -q --allow-existing -p 3.12 $(UPSTREAM)
	$(PY) -m uv pip install -q --python $(UPSTREAM)/bin/python "$(AWM_SRC)" -e . pytest
	$(UPSTREAM)/bin/python -m pytest -q -m upstream tests/integration/test_upstream_awm.py

bench: install
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/export.py
	$(BIN)/phinance-env export
	$(BIN)/python benchmarks/awm_env.py
	$(BIN)/python benchmarks/episodes.py

clean:
	rm -rf .venv $(UPSTREAM) .pytest_cache

# The verifiers environment (environments/phinance) in a venv of its own: verifiers 0.4.0
# pins mcp 2.0.0, which the main venv (AWM's fastapi-mcp, mcp 1.x) cannot take. Its tests run
# verifiers' own `vf-eval` against `phinance-env gateway serve` and a scripted endpoint, all
# on 127.0.0.1 (~2 min; the chat program's packages come from PyPI through uv on first use).
VF_VENV := environments/phinance/.venv
.PHONY: test-verifiers
test-verifiers: install
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(PY) -m uv venv -q --allow-existing -p 3.12 $(VF_VENV)
	$(PY) -m uv pip install -q --python $(VF_VENV)/bin/python -e "environments/phinance[test]"
	cd environments/phinance && PHINANCE_ENV_BIN=$(CURDIR)/$(BIN)/phinance-env .venv/bin/python -m pytest -q
