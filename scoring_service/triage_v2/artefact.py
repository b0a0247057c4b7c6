"""The trained model on disk: one gzip file, deterministic bytes.

Layout: a JSON header line (metadata, and for every array its dtype, shape and byte
offset), then the arrays' raw little-endian bytes. No pickle: loading runs no code from
the file, and the bytes do not depend on a library's pickling. gzip's timestamp is 0,
so training twice on the same inputs writes the same file, and the model's version is
derived from the file's SHA-256.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def write(path: Path, meta: Mapping, arrays: Mapping[str, np.ndarray]) -> str:
    """Write the artefact; returns its SHA-256."""
    layout, offset, blobs = {}, 0, []
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        raw = array.tobytes()
        layout[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset, "bytes": len(raw)}
        offset += len(raw)
        blobs.append(raw)
    header = json.dumps({"meta": meta, "arrays": layout}, sort_keys=True, ensure_ascii=False).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as gz:
        gz.write(header + b"\n")
        for raw in blobs:
            gz.write(raw)
    data = buffer.getvalue()
    # Written beside and renamed into place: a service loading the model while `make
    # train` runs reads the old file or the new one, never half of one.
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return hashlib.sha256(data).hexdigest()


def read(path: Path) -> tuple[dict, dict[str, np.ndarray], str]:
    """(meta, arrays, sha256 of the file)."""
    data = path.read_bytes()
    raw = gzip.decompress(data)
    end = raw.index(b"\n")
    header = json.loads(raw[:end])
    body = memoryview(raw)[end + 1:]
    arrays = {}
    for name, spec in header["arrays"].items():
        chunk = body[spec["offset"]: spec["offset"] + spec["bytes"]]
        arrays[name] = np.frombuffer(chunk, dtype=np.dtype(spec["dtype"])).reshape(spec["shape"]).copy()
    return header["meta"], arrays, hashlib.sha256(data).hexdigest()
