"""Writes the int8 model of the plan driver test (plan.test).

    make_chain.py OUT.tflite

A pointwise-depthwise-pointwise block, the chain fused depthwise tiling was
made for: a 1x8x8x2 input (128 B), CONV_2D 1x1 to 16 channels with RELU
(1x8x8x16, 1024 B), DEPTHWISE_CONV_2D 3x3 SAME with RELU (1x8x8x16,
1024 B), CONV_2D 1x1 to 2 channels (1x8x8x2, 128 B), the output. Weights
are seeded; per-tensor scales keep every multiplier simple.
"""

import sys

import numpy as np

from fdt_mlir.examples.tflite_builder import ModelBuilder


def build() -> bytes:
    rng = np.random.default_rng(7)
    b = ModelBuilder("chain")

    def weights(shape):
        return b.const(rng.integers(-127, 128, shape).astype(np.int8), scale=0.02)

    def bias(n, scale):
        return b.const(rng.integers(-100, 100, n).astype(np.int32), scale=scale)

    x = b.input([1, 8, 8, 2], np.int8, scale=0.05, zero_point=-1)
    expand = b.tensor([1, 8, 8, 16], np.int8, scale=0.1, zero_point=-128)
    depth = b.tensor([1, 8, 8, 16], np.int8, scale=0.1, zero_point=-128)
    out = b.tensor([1, 8, 8, 2], np.int8, scale=0.2, zero_point=3)
    b.op("CONV_2D", [x, weights((16, 1, 1, 2)), bias(16, 0.05 * 0.02)], [expand], activation="RELU")
    b.op(
        "DEPTHWISE_CONV_2D",
        [expand, weights((1, 3, 3, 16)), bias(16, 0.1 * 0.02)],
        [depth],
        padding="SAME",
        activation="RELU",
    )
    b.op("CONV_2D", [depth, weights((2, 1, 1, 16)), bias(2, 0.1 * 0.02)], [out])
    b.output(out)
    return b.finish()


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(build())
