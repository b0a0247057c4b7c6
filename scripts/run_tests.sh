#!/usr/bin/env bash
# `make test`: starts what the tests need (the whole local stack), then runs pytest.
# Unit tests first (fast feedback), then the end-to-end and browser tests.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p test-artifacts
$PY scripts/stack.py up || { echo "the stack did not come up; see var/log/"; $PY scripts/stack.py status; exit 1; }

status=0
run() {
  "$PY" -m pytest "$@"
  rc=$?
  # 5 = no test collected in this group: not a failure of the suite by itself.
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=$rc; fi
}
run -m "not e2e and not browser" --junitxml=test-artifacts/unit.xml
run -m "e2e or browser" --junitxml=test-artifacts/e2e.xml
exit $status
