# churnguard: every target creates or reuses the project-local .venv and installs what it needs.
# Options: DATA=path/to/churn.csv  OUT=dir  ARGS="extra flags"  CDK_ARGS="-c key=value ..."

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
CHURNGUARD := $(VENV)/bin/churnguard
STAMP := $(VENV)/.installed
OUT ?= artifacts/model
CDK := npx --no-install cdk
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install system-packages test demo train synth deploy destroy cost bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[aws,dev]'
	touch $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

system-packages:
	bash scripts/install-system-packages

install: $(STAMP) system-packages

test: install
	$(PY) -m pytest $(ARGS)

demo: install
	$(CHURNGUARD) demo $(if $(DATA),--data $(DATA)) $(ARGS)

train: $(STAMP)
	$(CHURNGUARD) train $(if $(DATA),--data $(DATA)) --out $(OUT) $(ARGS)

synth: $(STAMP) node_modules/.installed
	$(CDK) synth --quiet $(CDK_ARGS)

deploy: $(STAMP) node_modules/.installed
	$(CDK) deploy --all $(CDK_ARGS)

destroy: $(STAMP) node_modules/.installed
	$(CHURNGUARD) teardown $(ARGS)

cost: synth
	$(CHURNGUARD) cost $(ARGS)

bench: install
	$(PY) bench/run_all.py $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf cdk.out artifacts .pytest_cache .ruff_cache
