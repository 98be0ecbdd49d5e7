"""The two float32 networks whose tiled arenas the method's targets name.

An MLP 4 -> 19391 -> 1, whose hidden layer is the whole peak and which FDT
removes ('<' on the first dense layer, '>' on the second); and a small CNN
32x32x3 -> conv 3x3 (32) -> maxpool 2x2 -> conv 3x3 (64) -> maxpool 2x2 ->
dense (10), whose first feature maps FFMT tiles away. And a float32
network whose two largest feature maps only a '~' path removes (the
partial sums of a linear 1x1 conv reduced by a global mean in each
partition): 8x8x8 -> conv 1x1 (64, RELU) -> conv 1x1 (64) -> mean over
H and W -> dense (10).
"""

import numpy as np

from ..examples.tflite_builder import ModelBuilder


def _dense(b, rng, x, units, depth, activation="NONE"):
    w = b.const((rng.standard_normal((units, depth)) / np.sqrt(depth)).astype(np.float32))
    bias = b.const((0.1 * rng.standard_normal(units)).astype(np.float32))
    y = b.tensor([1, units], np.float32)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], activation=activation)
    return y


def mlp_model(hidden=19391, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    b = ModelBuilder("mlp")
    x = b.input([1, 4], np.float32)
    h = _dense(b, rng, x, hidden, 4, activation="RELU")
    b.output(_dense(b, rng, h, 1, hidden))
    return b.finish()


def _conv(b, rng, x, shape_in, out_channels):
    n, height, width, channels = shape_in
    w = b.const((rng.standard_normal((out_channels, 3, 3, channels)) / np.sqrt(9 * channels)).astype(np.float32))
    bias = b.const((0.1 * rng.standard_normal(out_channels)).astype(np.float32))
    y = b.tensor([n, height, width, out_channels], np.float32)
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride=(1, 1), activation="RELU")
    return y, [n, height, width, out_channels]


def _pool(b, x, shape):
    n, height, width, channels = shape
    out = [n, height // 2, width // 2, channels]
    y = b.tensor(out, np.float32)
    b.op("MAX_POOL_2D", [x], [y], filter_size=(2, 2), stride=(2, 2), padding="VALID")
    return y, out


def cnn_model(seed=0, hw=32, widths=(32, 64)) -> bytes:
    """The CNN above; `hw` and `widths` shrink it for quicker tests."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder("cnn")
    x = b.input([1, hw, hw, 3], np.float32)
    y, shape = _conv(b, rng, x, [1, hw, hw, 3], widths[0])
    y, shape = _pool(b, y, shape)
    y, shape = _conv(b, rng, y, shape, widths[1])
    y, shape = _pool(b, y, shape)
    flat = b.tensor([1, int(np.prod(shape))], np.float32)
    b.op("RESHAPE", [y, b.const(np.array([1, -1], np.int32))], [flat])
    b.output(_dense(b, rng, flat, 10, int(np.prod(shape))))
    return b.finish()


def partial_sum_model(seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    b = ModelBuilder("partial")
    x = b.input([1, 8, 8, 8], np.float32)
    for depth, activation in ((8, "RELU"), (64, "NONE")):
        w = b.const((rng.standard_normal((64, 1, 1, depth)) / np.sqrt(depth)).astype(np.float32))
        bias = b.const((0.1 * rng.standard_normal(64)).astype(np.float32))
        y = b.tensor([1, 8, 8, 64], np.float32)
        b.op("CONV_2D", [x, w, bias], [y], activation=activation)
        x = y
    mean = b.tensor([1, 64], np.float32)
    b.op("MEAN", [x, b.const(np.array([1, 2], np.int32))], [mean], keep_dims=False)
    b.output(_dense(b, rng, mean, 10, 64))
    return b.finish()
