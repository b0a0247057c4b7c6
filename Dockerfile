# One image for every Python process of the product (web, relay, listener, scoring,
# streaming driver); compose.yaml picks the command. Java is there for Spark.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 DJANGO_SETTINGS_MODULE=config.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless maven \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY infra/ infra/
RUN mvn -q -B -f infra/spark/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
      -DincludeArtifactIds=spark-sql-kafka-0-10_2.13,spark-token-provider-kafka-0-10_2.13,kafka-clients,commons-pool2 \
      -DoutputDirectory=/app/build/spark/jars
COPY . .
# The scoring hot path compiled with mypyc (scoring_service/native.py): gcc only for the
# build, removed after it.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir mypy==2.4.1 && python scripts/build_native.py \
    && pip uninstall -y mypy && apt-get purge -y gcc libc6-dev && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/*
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000 9000
CMD ["python", "-m", "triage_app.serve", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
