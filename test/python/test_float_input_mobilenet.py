"""A float-input, int8-body MobileNetV2-style network (issue 14).

Converters put a QUANTIZE in front of an int8 image model whose users feed
float pixels; TFLM then holds the float image and its int8 copy at once.
The network here (`testing.random_networks.float_input_mobilenet`, 160x160)
must need no more than that untiled, and fused tiling must go below it:
the QUANTIZE's int8 image is consumed tile by tile by the first conv.
"""

from tiling_support import assert_matches, compile_model

from fdt_mlir.evaluation.tflm_head import tflm_head_bytes
from fdt_mlir.testing.random_networks import float_input_mobilenet
from fdt_mlir.testing.tflm import random_inputs

SIZE = 160
FLOAT_IMAGE = SIZE * SIZE * 3 * 4
INT8_IMAGE = SIZE * SIZE * 3


def test_float_input_mobilenet(tmp_path):
    path = tmp_path / "mobilenet.tflite"
    path.write_bytes(float_input_mobilenet(SIZE))
    # Without overlaps: the expected arenas count whole buffers.
    untiled = compile_model(path, tmp_path / "untiled", "mobilenet", options=["--tiling", "none", "--no-overlap"])
    # The peak is the float image beside its int8 copy, as in TFLM.
    assert untiled.report["arena_bytes"] == FLOAT_IMAGE + INT8_IMAGE == tflm_head_bytes(path)
    tiled = compile_model(path, tmp_path / "tiled", "mobilenet", options=["--tiling", "all", "--no-overlap"])
    # The first conv reads the QUANTIZE, MUL and SUB 5x5 tiles at a time:
    # the float image, the conv's 80x80x8 output and one 33x33x3 tile of
    # the normalized image (a 16x16 output tile's stride-2 3x3 window).
    assert tiled.report["paths"] == ["ffmt hw 5x5 : QUANTIZE:0 MUL:1 SUB:2 CONV_2D:3"]
    assert tiled.report["arena_bytes"] == FLOAT_IMAGE + 80 * 80 * 8 + 33 * 33 * 3
    assert_matches(path, tiled, untiled, random_inputs(str(path), 2, seed=0))
