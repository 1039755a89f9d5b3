# churnguard: every target creates or reuses the project-local .venv and installs what it needs.
# Options: DATA=path/to/churn.csv  OUT=dir  ARGS="extra flags"  CDK_ARGS="-c key=value ..."

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
CHURNGUARD := $(VENV)/bin/churnguard
STAMP := $(VENV)/.installed
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.9
OUT ?= artifacts/model
CDK := npx --no-install cdk
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# The build machines run Debian's Node 20, past jsii's end of support: the banner says nothing new on every synth.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export SAGEMAKER_SUPPRESS_V2_WARNING := 1
# cdk.json runs `python3 app.py`: the project's interpreter must come first. The shell's own PATH is
# kept for the hints churnguard prints (commands/_invocation.py): they must work when pasted there.
export CHURNGUARD_SHELL_PATH := $(PATH)
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install lock test demo train synth bootstrap preflight deploy verify destroy cost bench lint clean

# The exact versions (and hashes) of every Python dependency, for Python 3.11-3.13 on any platform;
# the project itself goes in editable on top, without resolving anything again (docs/dependencies.md).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

# `npm ci` installs exactly package-lock.json's CLI (never rewrites the lock).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Resolves pyproject.toml's ranges (dependencies and the aws and dev extras) again into requirements.lock
# with uv's universal resolver, from 3.11 (requires-python's floor) up. Versions already locked are kept
# where they still fit; `make lock ARGS=--upgrade` (or `ARGS="--upgrade-package NAME"`) moves them.
# uv lives in its own venv: a lock must be makeable when .venv cannot be installed from the old one.
$(LOCK_VENV)/.uv-$(UV_VERSION):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q uv==$(UV_VERSION)
	touch $@

lock: $(LOCK_VENV)/.uv-$(UV_VERSION)
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra aws --extra dev --universal --python-version 3.11 \
	  --generate-hashes --quiet --output-file requirements.lock $(ARGS)

install: $(STAMP) node_modules/.installed
	bash scripts/install-system-packages mariadb-server chromium chromium-driver

test: install
	$(PY) -m pytest $(ARGS)

demo: $(STAMP)
	bash scripts/install-system-packages mariadb-server
	$(CHURNGUARD) demo $(if $(DATA),--data $(DATA)) $(ARGS)

train: $(STAMP)
	$(CHURNGUARD) train $(if $(DATA),--data $(DATA)) --out $(OUT) $(ARGS)

# The stack serves the model in $(OUT); on a fresh clone it is trained first on synthetic data
# (seconds). Train on your own data with `make train DATA=...` before deploying for real.
$(OUT)/metadata.json: | $(STAMP)
	$(CHURNGUARD) train --out $(OUT)

synth: $(STAMP) node_modules/.installed $(OUT)/metadata.json
	$(CDK) synth --quiet -c model_dir=$(OUT) $(CDK_ARGS)

# Once per account and region: CDK's asset bucket and roles (CloudFormation stack CDKToolkit), in the
# account and region of your credentials (or ARGS=aws://ACCOUNT/REGION). `cdk bootstrap` runs the app
# too, so it goes through make for the same quiet jsii and the same model folder as synth; the pre-flight
# first, so missing credentials or an unusable region are one line, not CDK's stack trace.
bootstrap: preflight node_modules/.installed $(OUT)/metadata.json
	$(CDK) bootstrap -c model_dir=$(OUT) $(CDK_ARGS) $(ARGS)

# Before anything is trained, kept or deployed: the options, the credentials, the region, and whether
# RDS offers the engine version there for the writer (docs/infra.md, "Before the deploy"). One line
# either way; listed first among deploy's prerequisites so a refusal comes before any other work.
preflight: $(STAMP)
	@$(CHURNGUARD) preflight -c model_dir=$(OUT) $(CDK_ARGS)

# Every deployed model folder is kept by id first (artifacts/models/<id>), so rolling back is always
# `make deploy OUT=artifacts/models/<old id>` (docs/lifecycle.md).
deploy: preflight node_modules/.installed $(OUT)/metadata.json
	$(CHURNGUARD) models keep $(OUT)
	$(CDK) deploy --all -c model_dir=$(OUT) $(CDK_ARGS)

# Checks the deployed stack end to end (docs/verify.md); takes the deploy's CDK_ARGS (-c stage=...,
# -c region=...) and checks against the model in $(OUT). Never trains: verifying a model other than the
# deployed one would only report a mismatch. `make verify ARGS=--local` checks the local stand-in.
# OUT given on the command line also names the model for `ARGS=--local` (where -c model_dir, the
# deploy's option, does not apply): `make verify ARGS=--local OUT=<folder>`.
verify: $(STAMP)
	$(CHURNGUARD) verify -c model_dir=$(OUT) $(if $(filter command environment,$(firstword $(origin OUT))),--model-dir $(OUT)) $(CDK_ARGS) $(ARGS)

# `cdk destroy` synthesizes the app too: it needs the model folder and the options used at deploy.
destroy: $(STAMP) node_modules/.installed $(OUT)/metadata.json
	$(CHURNGUARD) teardown -c model_dir=$(OUT) $(CDK_ARGS) $(ARGS)

cost: synth
	$(CHURNGUARD) cost $(ARGS)

bench: $(STAMP)
	bash scripts/install-system-packages mariadb-server
	$(PY) bench/run_all.py $(ARGS)

# ruff, then cfn-lint on the templates of both network modes (synthesized from $(OUT), no credentials).
lint: $(STAMP) $(OUT)/metadata.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m infra.template_lint --model-dir $(OUT)

clean:
	rm -rf cdk.out artifacts .pytest_cache .ruff_cache
