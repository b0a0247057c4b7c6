#!/usr/bin/env bash
# Installs what the product needs on a fresh machine; cheap when everything is there.
#   Debian packages (PostgreSQL, Redis, HAProxy, Chromium for the browser tests), the project
#   virtualenv from requirements-dev.txt, the Kafka broker's jars and the Spark Kafka
#   connector from Maven Central, the front-end libraries from npm, the translations.
# Every step checks first and skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

need_apt=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v chromium >/dev/null || need_apt+=(chromium chromium-driver)
command -v docker-compose >/dev/null || need_apt+=(docker-compose)
command -v msgfmt >/dev/null || need_apt+=(gettext)
command -v haproxy >/dev/null || need_apt+=(haproxy)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the packages must not start their own servers; scripts/stack runs ours.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

PY=${PYTHON:-python3}
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
  # Every package, transitive ones and pip itself, pinned with its hashes (`make lock`):
  # this machine installs exactly what CI tested. The deployment image installs only
  # requirements.txt (no test tools).
  say "installing Python packages into .venv (requirements-dev.txt)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q --require-hashes -r requirements-dev.txt
  echo "$want" > $stamp
fi

if ! ls build/kafka/libs/kafka_2.13-*.jar >/dev/null 2>&1; then
  say "resolving the Kafka broker jars from Maven Central"
  mvn -q -B -f infra/kafka/pom.xml dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$ROOT/build/kafka/libs"
fi

spark_version=$(.venv/bin/python -c 'import pyspark; print(pyspark.__version__)')
if ! ls build/spark/jars/spark-sql-kafka-0-10_2.13-"$spark_version".jar >/dev/null 2>&1; then
  say "resolving spark-sql-kafka-0-10_2.13:$spark_version from Maven Central"
  rm -rf build/spark/jars
  mvn -q -B -f infra/spark/pom.xml dependency:copy-dependencies -Dspark.version="$spark_version" \
      -DincludeScope=runtime -DoutputDirectory="$ROOT/build/spark/jars"
  # Keep only what pyspark does not already ship (the connector, its token provider,
  # the Kafka client, commons-pool2): two versions of one library on the classpath clash.
  pyspark_jars=$(.venv/bin/python -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
  for jar in build/spark/jars/*.jar; do
    artifact=$(basename "$jar" | sed -E 's/-[0-9][0-9.]*(-[A-Za-z0-9.]+)?\.jar$//')
    if ls "$pyspark_jars/$artifact"-[0-9]*.jar >/dev/null 2>&1; then rm "$jar"; fi
  done
fi

if [ -f package.json ] && [ ! -f static/vendor/chart.umd.js ]; then
  say "installing front-end libraries from npm into static/vendor"
  # package.json's postinstall copies the built files into static/vendor/.
  npm ci --no-audit --no-fund --silent
fi
# The Russian strings (locale/ru) compiled for Django (compilemessages runs gettext's
# msgfmt); rebuilt when a .po is newer than its .mo.
for po in locale/*/LC_MESSAGES/django.po; do
  if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
    say "compiling translations ($po)"
    TRIAGE_DEBUG=1 .venv/bin/python manage.py compilemessages --locale "$(basename "$(dirname "$(dirname "$po")")")" \
      --ignore .venv --verbosity 0
  fi
done
# The scoring hot path compiled with mypyc (scoring_service/native.py); a no-op when the
# build matches the sources. If gcc or mypyc fail, the service runs the same modules as Python.
.venv/bin/python scripts/build_native.py || say "mypyc build failed: scoring runs as plain Python"
say "set-up complete"
