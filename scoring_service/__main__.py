"""`python -m scoring_service [--host 127.0.0.1] [--port 9000] [--workers N] [--threads N]`.

Runs the service under gunicorn (gthread worker) with scoring_service/gunicorn_conf.py;
the flags override its environment-driven defaults.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from triage_core.config import scoring_server

CONF = Path(__file__).resolve().parent / "gunicorn_conf.py"
APP = "scoring_service.app:create_app()"


def gunicorn_argv(argv: list[str] | None = None) -> list[str]:
    server = scoring_server()
    parser = argparse.ArgumentParser(prog="python -m scoring_service", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--workers", type=int, default=server.workers)
    parser.add_argument("--threads", type=int, default=server.threads)
    args = parser.parse_args(argv)
    return ["gunicorn", "-c", str(CONF), "--bind", f"{args.host}:{args.port}",
            "--workers", str(args.workers), "--threads", str(args.threads), APP]


def main(argv: list[str] | None = None) -> None:
    from gunicorn.app.wsgiapp import run

    sys.argv = gunicorn_argv(argv)
    run()


if __name__ == "__main__":
    main()
