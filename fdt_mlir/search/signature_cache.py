"""Lowered units' signatures kept on disk, shared between compiles.

Lowering each candidate unit on its own (tile-and-fuse in the transform
interpreter) is most of a search's time, and the same units recur from one
compile of a model to the next: each `--tiling` mode, `fdt-eval`, a test
suite. A signature is a pure function of the model's IR, the unit's cut and
path, the mode and the compiler itself, so the key hashes all of them and a
hit is exactly what lowering would give: results stay byte-identical. Off
unless the environment variable FDT_MLIR_CACHE names a directory.
"""

import hashlib
import importlib.metadata
import json
import os
import tempfile
from functools import cache
from pathlib import Path

ENVIRONMENT = "FDT_MLIR_CACHE"


def directory() -> Path | None:
    where = os.environ.get(ENVIRONMENT)
    return Path(where) if where else None


def key(*parts) -> str:
    """A key for `parts` (bytes or anything with a stable str) under this
    compiler and these MLIR bindings."""
    digest = hashlib.sha256(_compiler().encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def load(name: str):
    """The value stored under `name`, lists read back as tuples, or None."""
    where = directory()
    try:
        return _tuples(json.loads((where / f"{name}.json").read_text())) if where else None
    except (OSError, ValueError):
        return None


def store(name: str, value) -> None:
    """Writes atomically: concurrent compiles may store the same key."""
    where = directory()
    if where is None:
        return
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=where, suffix=".tmp", delete=False) as out:
        json.dump(value, out)
    os.replace(out.name, where / f"{name}.json")


@cache
def _compiler() -> str:
    """The compiler's own sources and the bindings' version: a change to
    either must not reuse a signature."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".mlir", ".c") and path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    try:
        digest.update(importlib.metadata.version("xtc-mlir-python-bindings").encode())
    except importlib.metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
