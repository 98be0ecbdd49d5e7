"""The method's memory targets, as exact byte counts from the compiler, with
the tiled programs checked against TFLM."""

import numpy as np

from fdt_mlir.plan import parse_plan
from fdt_mlir.testing.target_models import cnn_model, mlp_model
from fdt_mlir.testing.tflm import random_inputs
from tiling_support import assert_matches, compile_model


def _compile_pair(tmp_path, name, model: bytes, plan: str):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    untiled = compile_model(path, tmp_path / "untiled", name)
    tiled = compile_model(path, tmp_path / "tiled", name, parse_plan(plan))
    assert_matches(path, tiled, untiled, random_inputs(str(path), 3, seed=0))
    return untiled.report, tiled.report


def test_mlp_fdt_needs_at_most_11_percent(tmp_path):
    untiled, tiled = _compile_pair(tmp_path, "mlp", mlp_model(), "fdt c 16 : FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >")
    # Untiled: the 19391-float hidden layer above the 4-float input.
    assert untiled["arena_bytes"] == 16 + 19391 * 4
    assert tiled["arena_bytes"] == 4884
    assert tiled["arena_bytes"] <= 0.11 * untiled["arena_bytes"]
    assert tiled["macs"] == untiled["macs"] == 4 * 19391 + 19391


def test_cnn_ffmt_needs_at_most_35_percent(tmp_path):
    plan = "ffmt hw 4x4 : CONV_2D:0 MAX_POOL_2D:1 CONV_2D:2 MAX_POOL_2D:3"
    untiled, tiled = _compile_pair(tmp_path, "cnn", cnn_model(), plan)
    # Untiled peak: the 32x32x32 conv output and the 16x16x32 pool output.
    assert untiled["arena_bytes"] == (32 * 32 * 32 + 16 * 16 * 32) * 4
    # Tiled, per 2x2-output tile of the last pool: the last conv needs a
    # 6x6x32 window of the first pool (4608 B), which needs a 12x12x32 tile
    # of the first conv (18432 B). The peak is the first pool's step: the
    # input (12288 B) and the path's output (8x8x64, 16384 B) are live across
    # the loop, and the conv tile and pool tile are live together.
    assert tiled["arena_bytes"] == 12288 + 16384 + 18432 + 4608
    assert tiled["arena_bytes"] <= 0.35 * untiled["arena_bytes"]
    assert tiled["macs"] > tiled["macs_untiled"] == untiled["macs"]
    assert np.isclose(tiled["macs"], 6432256)
