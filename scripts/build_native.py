"""Compile the scoring hot path with mypyc into build/native/ (scoring_service/native.py).

Skips the build when build/native/ already holds the modules of the current sources.
mypyc type-checks what it compiles (mypy, strict enough to refuse a wrong type) and
builds in a scratch copy of the packages, so no extension module lands beside a source.
Takes ~20 s on this machine; `make setup` runs it.

    .venv/bin/python scripts/build_native.py [--force]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ["TRIAGE_NATIVE"] = "0"  # this process builds the modules: it need not load them
from scoring_service import native  # noqa: E402

# What mypy reads to type-check the compiled modules (they import from these packages).
PACKAGES = ("scoring_service", "triage_core")


def build(force: bool = False) -> int:
    digest = native.sources_digest()
    if not force and native.built_digest() == digest:
        print(f"compiled scoring modules up to date ({native.NATIVE_DIR.relative_to(ROOT)})")
        return 0
    started = time.monotonic()
    print(f"compiling {len(native.NATIVE_MODULES)} scoring modules with mypyc into "
          f"{native.NATIVE_DIR.relative_to(ROOT)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="triage-native-") as scratch:
        work = Path(scratch)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, work / package,
                            ignore=shutil.ignore_patterns("data", "__pycache__", "*.so"))
        done = subprocess.run([sys.executable, "-m", "mypyc", "--ignore-missing-imports", *native.NATIVE_MODULES],
                              cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
            print("mypyc failed: the scoring service runs its modules as Python", file=sys.stderr)
            return done.returncode
        built = [p for p in work.rglob("*.so") if "build" not in p.relative_to(work).parts]
        if native.NATIVE_DIR.exists():
            shutil.rmtree(native.NATIVE_DIR)
        for so in built:
            target = native.NATIVE_DIR / so.relative_to(work)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(so, target)
    native.STAMP.write_text(digest + "\n")
    print(f"compiled {len(built)} extension modules in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even if the build is current")
    return build(parser.parse_args(argv).force)


if __name__ == "__main__":
    raise SystemExit(main())
