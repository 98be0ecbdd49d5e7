"""The on-disk cache of lowered units: a compile that hits it gives byte
for byte what a compile that lowers every unit gives."""

import os
import subprocess
import sys

from tiling_support import TOOL

from fdt_mlir.search import signature_cache
from fdt_mlir.testing.target_models import mlp_model


def _compile(model, outdir, cache):
    env = dict(os.environ)
    env.pop(signature_cache.ENVIRONMENT, None)
    if cache:
        env[signature_cache.ENVIRONMENT] = str(cache)
    args = [sys.executable, str(TOOL), str(model), "--tiling", "fdt", "--emit", "c", "-o", str(outdir)]
    subprocess.run(args, env=env, check=True, capture_output=True)
    return {p.name: p.read_bytes() for p in outdir.iterdir()}


def test_hits_give_what_lowering_gives(tmp_path):
    model = tmp_path / "mlp.tflite"
    model.write_bytes(mlp_model())
    cache = tmp_path / "cache"
    uncached = _compile(model, tmp_path / "none", None)
    filled = _compile(model, tmp_path / "fill", cache)
    stored = sorted(cache.iterdir())
    assert stored and all(p.suffix == ".json" for p in stored)
    hit = _compile(model, tmp_path / "hit", cache)
    assert sorted(cache.iterdir()) == stored  # nothing lowered again
    assert uncached == filled == hit


def test_damaged_entries_are_lowered_again(tmp_path):
    model = tmp_path / "mlp.tflite"
    model.write_bytes(mlp_model())
    cache = tmp_path / "cache"
    good = _compile(model, tmp_path / "fill", cache)
    for entry in cache.iterdir():
        entry.write_text("{truncated")
    assert _compile(model, tmp_path / "again", cache) == good
    assert all(entry.read_text() != "{truncated" for entry in cache.iterdir())
