#!/usr/bin/env bash
# `make test`: starts what the tests need (a whole stack of their own), then runs pytest.
# Unit tests first (fast feedback), then the end-to-end and browser tests.
#
# The tests run on the test stack of scripts/test-stack.env (var/test, other ports, the
# database triage_e2e, the topic complaints_e2e), wiped before the run and stopped after
# it, so a `make up` stack in var/ is left as it was: its data, processes and ports.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
set -a
. scripts/test-stack.env
set +a
mkdir -p test-artifacts
# Lint first: seconds, and a finding fails the run like a failing test (pyproject.toml).
lint=0
$PY -m ruff check . || lint=1
$PY -m mypy || lint=1
$PY scripts/stack wipe || exit 1
trap '$PY scripts/stack down' EXIT
$PY scripts/stack up || { echo "the test stack did not come up; see var/test/log/"; $PY scripts/stack status; exit 1; }

status=$lint
run() {
  "$PY" -m pytest "$@"
  rc=$?
  # 5 = no test collected in this group: on a developer's machine not a failure of the
  # suite by itself; in CI (CI=true) it is, like a skip (tests/conftest.py).
  if [ $rc -ne 0 ] && { [ $rc -ne 5 ] || [ "${CI:-}" = true ]; }; then status=$rc; fi
}
# A report left by an earlier run must not stand in for a group that wrote none.
rm -f test-artifacts/unit.xml test-artifacts/e2e.xml test-artifacts/cluster.xml
run -m "not e2e and not browser and not cluster" --junitxml=test-artifacts/unit.xml
run -m "(e2e or browser) and not cluster" --junitxml=test-artifacts/e2e.xml

# The cluster-mode faults (tests/cluster) on a stack of their own: the test stack's ports
# with scripts/cluster-test.env on top (three Kafka nodes, a Spark standalone cluster).
# The test stack goes down first (the same ports, and two cores to share); from here the
# EXIT trap stops the cluster-mode stack.
$PY scripts/stack down
set -a
. scripts/cluster-test.env
set +a
$PY scripts/stack wipe || exit 1
if $PY scripts/stack up; then
  run -m cluster tests/cluster --junitxml=test-artifacts/cluster.xml
else
  echo "the cluster-mode test stack did not come up; see var/test-cluster/log/"
  $PY scripts/stack status
  status=1
fi
if [ "${CI:-}" = true ]; then
  # CI proves that everything ran: no test skipped, each folder of tests/ at its floor.
  "$PY" scripts/check_test_report.py test-artifacts/unit.xml test-artifacts/e2e.xml test-artifacts/cluster.xml \
    || status=1
fi
exit $status
