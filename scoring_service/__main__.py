"""`python -m scoring_service [--host 127.0.0.1] [--port 9000] [--workers N] [--threads N]`.

Runs the service under gunicorn (gthread worker) with scoring_service/gunicorn_conf.py;
the flags override its environment-driven defaults.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

CONF = Path(__file__).resolve().parent / "gunicorn_conf.py"
APP = "scoring_service.app:create_app()"


def gunicorn_argv(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(prog="python -m scoring_service", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("SCORING_WORKERS", "1")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("SCORING_THREADS", "4")))
    args = parser.parse_args(argv)
    return ["gunicorn", "-c", str(CONF), "--bind", f"{args.host}:{args.port}",
            "--workers", str(args.workers), "--threads", str(args.threads), APP]


def main(argv: list[str] | None = None) -> None:
    from gunicorn.app.wsgiapp import run

    sys.argv = gunicorn_argv(argv)
    run()


if __name__ == "__main__":
    main()
