"""`python -m scoring_service.datasets.build [SOURCE ...] [--mirror-root DIR]`

Rebuild the committed corpora from repository snapshots (brought here with the search
tool's `fetch`; each is a bare git directory under `/work/.mirror/<owner>+<name>/`).
Files are read at the pinned commit with `git show`, so the result does not depend on
what the snapshot's newest commit is. Only data files are read; no fetched code is run.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scoring_service.datasets import LabelledText, write_source

MIRROR_ROOT = Path("/work/.mirror")


@dataclass(frozen=True)
class Source:
    """One public corpus: where it lives, under what terms, and how its labels map."""

    name: str
    lang: str
    repository: str            # owner/name on GitHub
    commit: str                # full 40-hex commit the files are read at
    paths: tuple[str, ...]     # data files inside the repository
    licence: str
    labels: str                # how the source's labels become tone / complaint / category
    convert: Callable[[Mapping[str, bytes]], Iterable[LabelledText]] = field(repr=False)
    citation: str = ""


def git_dir(repository: str, root: Path = MIRROR_ROOT) -> Path:
    owner, name = repository.split("/", 1)
    base = root / f"{owner}+{name}"
    if (base / "HEAD").exists():
        return base
    found = [p.parent for p in base.glob("**/HEAD") if (p.parent / "objects").is_dir()]
    if not found:
        raise FileNotFoundError(f"no snapshot of {repository} under {base}: fetch github:{repository} first")
    return found[0]


def git_blob(repository: str, commit: str, path: str, root: Path = MIRROR_ROOT) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir(repository, root)), "show", f"{commit}:{path}"],
                          check=True, capture_output=True).stdout


def build(source: Source, root: Path = MIRROR_ROOT) -> Path:
    blobs = {path: git_blob(source.repository, source.commit, path, root) for path in source.paths}
    return write_source(source.name, source.convert(blobs), {
        "name": source.name, "lang": source.lang, "repository": source.repository, "commit": source.commit,
        "paths": list(source.paths), "licence": source.licence, "labels": source.labels,
        "citation": source.citation,
        "input_sha256": {path: hashlib.sha256(blob).hexdigest() for path, blob in blobs.items()},
        "input_bytes": {path: len(blob) for path, blob in blobs.items()},
    })


def all_sources() -> dict[str, Source]:
    from scoring_service.datasets import sources_en, sources_ru

    return {s.name: s for s in (*sources_en.SOURCES, *sources_ru.SOURCES)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", help="source names (default: all)")
    parser.add_argument("--mirror-root", type=Path, default=MIRROR_ROOT)
    args = parser.parse_args(argv)
    sources = all_sources()
    for name in args.sources or sorted(sources):
        if name not in sources:
            print(f"unknown source {name!r}; known: {', '.join(sorted(sources))}", file=sys.stderr)
            return 2
        path = build(sources[name], args.mirror_root)
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
