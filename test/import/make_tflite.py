"""Writes the small models of the import and driver lit tests.

    make_tflite.py int8|float32 OUT.tflite

Both are CONV_2D 3x3, stride 2, SAME, RELU (1x8x8x2 -> 1x4x4x4), RESHAPE to
1x64, FULLY_CONNECTED (64 -> 3), with fixed weights. The int8 scales are
chosen so that every requantization multiplier can be worked out by hand:
input 0.5, conv weights per channel [0.25, 0.375, 0.0625, 0.1875], conv
output 1.0, fully connected weights 0.0625 per tensor, output 0.5. The
effective scales 0.125, 0.1875, 0.03125, 0.09375 and 0.125 are m * 2^e with
m = 0.5 or 0.75 exactly, so TOSA multipliers are 2^30 or 3 * 2^29.
"""

import sys

import numpy as np

from fdt_mlir.examples.tflite_builder import ModelBuilder


def build(quantized: bool) -> bytes:
    rng = np.random.default_rng(3)
    b = ModelBuilder("net")
    if quantized:
        x = b.input([1, 8, 8, 2], np.int8, scale=0.5, zero_point=-3)
        w_scale = np.array([0.25, 0.375, 0.0625, 0.1875], np.float32)
        w = b.const(rng.integers(-127, 128, (4, 3, 3, 2)).astype(np.int8), scale=w_scale, quantized_dimension=0)
        bias = b.const(rng.integers(-50, 50, 4).astype(np.int32), scale=0.5 * w_scale)
        y = b.tensor([1, 4, 4, 4], np.int8, scale=1.0, zero_point=2)
        flat = b.tensor([1, 64], np.int8, scale=1.0, zero_point=2)
        fw = b.const(rng.integers(-127, 128, (3, 64)).astype(np.int8), scale=0.0625)
        fb = b.const(rng.integers(-50, 50, 3).astype(np.int32), scale=0.0625)
        out = b.tensor([1, 3], np.int8, scale=0.5, zero_point=-1)
    else:
        x = b.input([1, 8, 8, 2], np.float32)
        w = b.const(rng.normal(0, 0.3, (4, 3, 3, 2)).astype(np.float32))
        bias = b.const(rng.normal(0, 0.1, 4).astype(np.float32))
        y = b.tensor([1, 4, 4, 4], np.float32)
        flat = b.tensor([1, 64], np.float32)
        fw = b.const(rng.normal(0, 0.1, (3, 64)).astype(np.float32))
        fb = b.const(rng.normal(0, 0.1, 3).astype(np.float32))
        out = b.tensor([1, 3], np.float32)
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride=(2, 2), activation="RELU")
    b.op("RESHAPE", [y, b.const(np.array([1, 64], np.int32))], [flat], new_shape=[1, 64])
    b.op("FULLY_CONNECTED", [flat, fw, fb], [out])
    b.output(out)
    return b.finish()


if __name__ == "__main__":
    kind, path = sys.argv[1:]
    with open(path, "wb") as f:
        f.write(build(kind == "int8"))
