"""The stack's cluster mode (scripts/cluster-stack.env, issue 13): what it derives from its
settings, with no server started. The stack reads its settings when imported, so each
case imports it in a fresh interpreter with the environment of the case."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from stack import cli, infra, product  # noqa: E402

CLUSTER_ENV = {"TRIAGE_STACK_MODE": "cluster",
               "TRIAGE_KAFKA_BOOTSTRAP": "127.0.0.1:9300,127.0.0.1:9302,127.0.0.1:9304",
               "TRIAGE_KAFKA_REPLICATION_FACTOR": "3", "TRIAGE_KAFKA_MIN_INSYNC_REPLICAS": "2",
               "TRIAGE_SPARK_MASTER_PORT": "7300", "TRIAGE_SPARK_MASTER_UI_PORT": "8300"}


def in_stack(tmp_path: Path, script: str, **env: str) -> subprocess.CompletedProcess:
    """Runs `script` after `from stack import infra, product` in a new interpreter."""
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")},
                "TRIAGE_VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, 'scripts')\n"
                           f"from stack import infra, product\n{script}"],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


def properties(path: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if "=" in line)


def test_each_address_of_the_bootstrap_list_is_a_kafka_node_of_one_static_quorum(tmp_path):
    result = in_stack(tmp_path, """
import json
nodes = [(n.node_id, n.name, n.port, n.controller_port) for n in infra.KAFKA_NODES]
print(json.dumps({"nodes": nodes, "config": str(infra.write_kafka_config(infra.KAFKA_NODES[1])),
                  "components": [c.name for c in infra.COMPONENTS]}))""", **CLUSTER_ENV)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["nodes"] == [[1, "kafka-1", 9300, 9301], [2, "kafka-2", 9302, 9303], [3, "kafka-3", 9304, 9305]]
    assert out["components"] == ["postgres", "redis", "kafka-1", "kafka-2", "kafka-3"]
    config = properties(out["config"])
    assert config["node.id"] == "2"
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9301,2@127.0.0.1:9303,3@127.0.0.1:9305"
    assert "controller.quorum.bootstrap.servers" not in config
    assert config["listeners"].endswith("://127.0.0.1:9302,CONTROLLER://127.0.0.1:9303")
    assert config["log.dirs"] == str(tmp_path / "var" / "kafka-2" / "data")
    assert (config["offsets.topic.replication.factor"], config["transaction.state.log.min.isr"]) == ("3", "2")
    assert Path(out["config"]).stat().st_mode & 0o777 == 0o600


def test_the_local_mode_keeps_its_one_standalone_node(tmp_path):
    result = in_stack(tmp_path, """
import json
node, = infra.KAFKA_NODES
print(json.dumps([node.name, infra.KAFKA_REPLICATION, str(infra.write_kafka_config(node)),
                  [c.name for c in product.COMPONENTS if c.name.startswith("spark")]]))""",
                      TRIAGE_KAFKA_BOOTSTRAP="127.0.0.1:9310")
    assert result.returncode == 0, result.stderr
    name, replication, path, spark = json.loads(result.stdout)
    assert (name, replication, spark) == ("kafka", 1, [])
    config = properties(path)
    assert config["controller.quorum.bootstrap.servers"] == "127.0.0.1:9311"
    assert "controller.quorum.voters" not in config
    assert config["offsets.topic.replication.factor"] == "1"


def test_a_cluster_of_fewer_than_three_nodes_is_refused_with_the_count(tmp_path):
    result = in_stack(tmp_path, "", **{**CLUSTER_ENV, "TRIAGE_KAFKA_BOOTSTRAP": "127.0.0.1:9300,127.0.0.1:9302"})
    assert result.returncode != 0
    assert "three or more Kafka nodes" in result.stderr and "names 2" in result.stderr


def test_an_unknown_stack_mode_is_refused(tmp_path):
    result = in_stack(tmp_path, "", TRIAGE_STACK_MODE="swarm")
    assert result.returncode != 0 and "must be local or cluster, not 'swarm'" in result.stderr


def test_the_stream_is_submitted_to_the_master_with_the_offline_jars_its_modules_and_the_venv_python(tmp_path):
    if not list((ROOT / "build" / "spark" / "jars").glob("*.jar")):
        pytest.skip("no Spark connector jars in build/spark/jars: run `make setup`")
    result = in_stack(tmp_path, """
import json
(product.RUN).mkdir(parents=True, exist_ok=True)
print(json.dumps({"argv": product.spark_submit_argv(), "workers": product.SPARK_WORKERS,
                  "components": [c.name for c in product.COMPONENTS]}))""", **CLUSTER_ENV)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    argv = out["argv"]
    assert argv[0].endswith("/pyspark/bin/spark-submit") and argv[-1] == str(ROOT / "streaming" / "job.py")
    options = dict(zip(argv[1:-1:2], argv[2:-1:2], strict=True))
    assert options["--master"] == "spark://127.0.0.1:7300"
    assert options["--deploy-mode"] == "client"
    assert options["--jars"].split(",") == sorted(str(p) for p in (ROOT / "build" / "spark" / "jars").glob("*.jar"))
    conf = dict(value.split("=", 1) for flag, value in zip(argv[1:-1:2], argv[2:-1:2], strict=True) if flag == "--conf")
    assert conf["spark.pyspark.python"] == conf["spark.pyspark.driver.python"] == str(ROOT / ".venv" / "bin" / "python")
    assert (conf["spark.executor.cores"], conf["spark.cores.max"]) == ("1", "2")
    with zipfile.ZipFile(options["--py-files"]) as package:
        names = set(package.namelist())
    assert {"streaming/job.py", "streaming/scoring.py", "triage_core/config.py", "triage_core/priority.py"} <= names
    assert not any(name.startswith(("triage_app/", "tests/")) for name in names)
    assert out["workers"] == {"spark-worker-1": [7301, 8301], "spark-worker-2": [7302, 8302]}
    assert out["components"][-5:] == ["spark-master", "spark-worker-1", "spark-worker-2", "stream", "supervisor"]


def test_the_stream_is_healthy_when_the_ready_mark_names_it_or_its_child(tmp_path, monkeypatch):
    """Under spark-submit the driver's Python is a child of the JVM the stack started."""
    monkeypatch.setattr(product, "RUN", tmp_path)
    monkeypatch.setattr(product, "read_pid", lambda name: os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        ready = tmp_path / "stream.ready"
        assert not product.stream_healthy()
        for pid, healthy in ((os.getpid(), True), (child.pid, True), (1, False), (stranger.pid - 10**6, False)):
            ready.write_text(str(pid))
            assert product.stream_healthy() is healthy, pid
        ready.write_text("not a pid")
        assert not product.stream_healthy()
    finally:
        child.kill()
        stranger.kill()


def test_the_nodes_of_a_kafka_cluster_stop_together_and_the_rest_in_reverse_order(monkeypatch):
    nodes = [infra.KafkaNode(n, f"kafka-{n}", "127.0.0.1", 9300 + 2 * n, 9301 + 2 * n) for n in (1, 2, 3)]
    monkeypatch.setattr(infra, "KAFKA_NODES", nodes)
    together = threading.Barrier(3, timeout=5)
    order: list[str] = []
    expect_together = True

    def stop(name: str, kill: bool = False) -> None:
        if name.startswith("kafka-") and expect_together:
            together.wait()  # breaks (and fails the test) unless all three are stopping at once
        order.append(name)

    monkeypatch.setattr(cli, "stop", stop)
    cli.stop_all(["postgres", "kafka-1", "kafka-2", "kafka-3", "web", "stream"])
    assert order[:2] == ["stream", "web"] and order[-1] == "postgres"
    assert sorted(order[2:5]) == ["kafka-1", "kafka-2", "kafka-3"]
    order.clear()
    expect_together = False
    cli.stop_all(["kafka-2", "web"])  # one node alone just stops
    assert order == ["web", "kafka-2"]


def test_every_spark_process_is_on_loopback_and_the_master_takes_no_rest_submissions(monkeypatch, tmp_path):
    started: dict[str, tuple[list[str], dict[str, str]]] = {}
    monkeypatch.setattr(product, "spawn", lambda name, argv, *, extra_env=None: started.update(
        {name: (argv, extra_env or {})}))
    monkeypatch.setattr(product, "VAR", tmp_path)
    monkeypatch.setattr(product, "SPARK_WORKERS", {"spark-worker-1": (7301, 8301)})
    product.start_spark_master()
    product.start_spark_worker("spark-worker-1")
    master_argv, master_env = started["spark-master"]
    assert master_argv[master_argv.index("--host") + 1] == "127.0.0.1"
    assert master_env["SPARK_MASTER_OPTS"] == "-Dspark.master.rest.enabled=false"
    worker_argv, worker_env = started["spark-worker-1"]
    assert worker_argv[-1] == product.SPARK_MASTER_URL
    assert worker_argv[worker_argv.index("--host") + 1] == "127.0.0.1"
    assert worker_argv[worker_argv.index("--cores") + 1] == str(product.SPARK_WORKER_CORES)
    # The web UIs and the executors the worker starts bind to SPARK_LOCAL_IP.
    assert master_env["SPARK_LOCAL_IP"] == worker_env["SPARK_LOCAL_IP"] == "127.0.0.1"
    assert (tmp_path / "spark" / "spark-worker-1").is_dir()
