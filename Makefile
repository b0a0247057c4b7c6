# The two commands a new user needs: `make up` and `make test`.
PY := .venv/bin/python
STACK := $(PY) scripts/stack
# The cluster mode's stack (scripts/cluster-stack.env): its own var dir and ports.
CLUSTER_STACK := set -a && . ./scripts/cluster-stack.env && set +a && $(STACK)

.PHONY: up down status cluster-up cluster-down cluster-status test test-unit eval train train-corrections corpora bench setup lock lint

setup:  ## install what is missing: Debian packages, .venv, Kafka + Spark connector jars, npm libs
	bash scripts/bootstrap.sh

up: setup  ## start the whole product on 127.0.0.1 and wait until every part is healthy
	$(STACK) up

down:  ## stop what `make up` started (data in var/ survives)
	$(STACK) down

status:
	$(STACK) status

cluster-up: setup  ## the product in cluster mode: 3 Kafka nodes (RF 3), a Spark standalone master + 2 workers, spark-submit
	$(CLUSTER_STACK) up

cluster-down:  ## stop the cluster-mode stack (its data in var/cluster survives)
	$(CLUSTER_STACK) down

cluster-status:
	$(CLUSTER_STACK) status

test: setup  ## the whole suite: unit tests, then the end-to-end and browser tests on the real stack
	bash scripts/run_tests.sh

test-unit: up  ## the fast part of the suite (it still needs the stack's migrated Postgres)
	$(PY) -m pytest -m "not e2e and not browser and not cluster"

eval: setup  ## model quality: held-out and leave-one-source-out AUC, r vs human ratings, dev-set F1 (docs/evaluation.md)
	$(PY) -m scoring_service.triage_v2.evaluate --output docs/evaluation.md
	$(PY) -m scoring_service.eval

train: setup  ## retrain triage 2.0 from the committed corpora (deterministic, ~3 min)
	$(PY) -m scoring_service.triage_v2.train

train-corrections: setup  ## staff corrections from Postgres + the corpora -> triage 2.1.0 in var/models/ (restart scoring to serve it)
	$(PY) manage.py export_corrections
	$(PY) -m scoring_service.triage_v2.train --extra-source var/corrections/staff_corrections.tsv.gz \
		--release 2.1.0 --output var/models/triage-2.1.0.model.gz

# pip-tools pins every transitive dependency with its hashes, so a fresh machine installs
# exactly what CI tested; requirements/*.in hold the top-level pins.
PIP_COMPILE := $(PY) -m piptools compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock:  ## after editing requirements/*.in: re-pin requirements.txt (runtime) and requirements-dev.txt (+ tests, tools)
	$(PIP_COMPILE) --output-file requirements.txt requirements/runtime.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements/dev.in

lint: setup  ## ruff and mypy (with django-stubs) over the whole project (pyproject.toml)
	$(PY) -m ruff check .
	$(PY) -m mypy

corpora:  ## rebuild scoring_service/data/corpora from fetched repository snapshots (docs/data.md)
	$(PY) -m scoring_service.datasets.build

bench: up  ## throughput / latency benchmarks with in-run baselines
	$(PY) bench/bench_scoring.py
	$(PY) bench/bench_pipeline.py
	$(PY) bench/bench_live.py
	$(PY) bench/bench_queue.py
