"""The method's memory targets, as exact byte counts from the compiler, with
the tiled programs checked against TFLM."""

import numpy as np
from tiling_support import assert_matches, compile_model

from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.testing.target_models import cnn_model, mlp_model, partial_sum_model
from fdt_mlir.testing.tflm import random_inputs
from fdt_mlir.tiling_plan import parse_plan


def _compile_pair(tmp_path, name, model: bytes, plan: str, tolerance=1e-5):
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    # Without overlaps: the expected arenas count whole buffers.
    untiled = compile_model(path, tmp_path / "untiled", name, options=["--no-overlap"])
    tiled = compile_model(path, tmp_path / "tiled", name, parse_plan(plan), options=["--no-overlap"])
    assert_matches(path, tiled, untiled, random_inputs(str(path), 3, seed=0), tolerance)
    return untiled.report, tiled.report


def test_mlp_fdt_needs_at_most_11_percent(tmp_path):
    untiled, tiled = _compile_pair(tmp_path, "mlp", mlp_model(), "fdt c 16 : FULLY_CONNECTED:0 < FULLY_CONNECTED:1 >")
    # Untiled: the 19391-float hidden layer above the 4-float input.
    assert untiled["arena_bytes"] == 16 + 19391 * 4
    # Tiled: a slice of ceil(19391 / 16) = 1212 hidden floats and the input.
    # The output's one-float accumulator, which only its kernel uses from
    # the first partition to the last, is a C local (a register).
    assert tiled["arena_bytes"] == 1212 * 4 + 16
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


# The partial sums of a '>' conv add up in another order than one long sum:
# float rounding, as for every '>' path.
PARTIAL_SUMS = 1e-4


def test_partial_sums_remove_both_feature_maps(tmp_path):
    plan = "fdt c 4 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~"
    untiled, tiled = _compile_pair(tmp_path, "partial", partial_sum_model(), plan, PARTIAL_SUMS)
    # Untiled peak: both 8x8x64 float feature maps.
    assert untiled["arena_bytes"] == 2 * 8 * 8 * 64 * 4
    # Tiled, per partition of 16 channels: the input (2048 B), the first
    # conv's slice (8x8x16, 4096 B) and the accumulator of the mean (64
    # floats, 256 B); per output channel of the mean, the second conv's
    # partial sum over H and W (8x8 floats, 256 B), which the mean sums in
    # one reduction (its sum in a register).
    assert tiled["arena_bytes"] == 2048 + 4096 + 256 + 256
    # The mean runs once per partition, but adds no multiply-accumulates.
    assert tiled["macs"] == untiled["macs"] == 8 * 8 * 8 * 64 + 8 * 8 * 64 * 64 + 64 * 10


def test_partial_sums_repeat_a_linear_dense_layer(tmp_path):
    plan = "fdt c 4 : CONV_2D:0 < CONV_2D:1 > MEAN:2 ~ FULLY_CONNECTED:3 ~"
    untiled, tiled = _compile_pair(tmp_path, "partial", partial_sum_model(), plan, PARTIAL_SUMS)
    # A '~' kernel runs once per partition: the dense layer's 640 MACs, 4 times.
    assert tiled["macs"] == untiled["macs"] + 3 * 64 * 10
    assert tiled["arena_bytes_predicted"] == tiled["arena_bytes"]


def _pool_scale_model() -> bytes:
    """float32: 8x8x8 -> conv 1x1 (32, RELU) -> conv 1x1 (32) -> average
    pool 3x3 / 2, SAME (a zero pad, a window sum, a division by each
    window's count) -> MUL by a constant."""
    rng = np.random.default_rng(1)
    b = ModelBuilder("pool")
    x = b.input([1, 8, 8, 8], np.float32)
    for depth, activation in ((8, "RELU"), (32, "NONE")):
        w = b.const((rng.standard_normal((32, 1, 1, depth)) / np.sqrt(depth)).astype(np.float32))
        y = b.tensor([1, 8, 8, 32], np.float32)
        b.op("CONV_2D", [x, w, b.const((0.1 * rng.standard_normal(32)).astype(np.float32))], [y], activation=activation)
        x = y
    pooled = b.tensor([1, 4, 4, 32], np.float32)
    b.op("AVERAGE_POOL_2D", [x], [pooled], filter_size=(3, 3), stride=(2, 2), padding="SAME")
    y = b.tensor([1, 4, 4, 32], np.float32)
    b.op("MUL", [pooled, b.const(np.full((1, 1, 1, 32), 0.5, np.float32))], [y])
    b.output(y)
    return b.finish()


def test_partial_sums_through_a_padded_average_pool_and_a_scaling(tmp_path):
    plan = "fdt c 3 : CONV_2D:0 < CONV_2D:1 > AVERAGE_POOL_2D:2 ~ MUL:3 ~"
    untiled, tiled = _compile_pair(tmp_path, "pool", _pool_scale_model(), plan, PARTIAL_SUMS)
    assert tiled["paths"] == [plan]
    assert tiled["arena_bytes_predicted"] == tiled["arena_bytes"] < untiled["arena_bytes"]
    assert tiled["macs"] == untiled["macs"] == 8 * 8 * 8 * 32 + 8 * 8 * 32 * 32
