"""Seeded random small TFLite networks, for exactness tests of fused tiling.

Hand-written models cover the operators one at a time; fused tiling is about
chains of them, with every mix of kernel sizes, strides, paddings and shapes
that make tile boundaries awkward, and the compiler's passes meet operators
side by side that no single-operator test puts together. A seed stands for
one such network, so a failure is reproduced (and reported) by its seed.

Three kinds of network: spatial chains (convolutions, pools and every
elementwise, data-movement, reduction and normalization operator the
compiler supports, in int8 where TFLM has the kernel; see `_LAYERS`), dense
stacks (FULLY_CONNECTED, BATCH_MATMUL, SOFTMAX), and recurrent ones (SVDF,
UNIDIRECTIONAL_SEQUENCE_LSTM, whose state carries over from
one invoke to the next). int8 scales follow estimated RMS values, so that few
values saturate, and the fixed output quantizations TFLM requires.

`random_network(seed, dtype)` returns the flatbuffer; `describe_network`
lists its operators, named `OPCODE:index` as the compiler names its kernels.
"""

import math

import numpy as np

from ..examples.tflite_builder import (
    _EXAMPLE_INPUT_RMS,
    _EXAMPLE_INPUT_SCALE,
    _EXAMPLE_INPUT_ZERO_POINT,
    _RANGE_IN_RMS,
    ModelBuilder,
)
from .recurrent_models import sequence_lstm_int8_layer, sequence_lstm_layer, svdf_layer

# Layers of the spatial chain, weighted towards the ones that tile.
_LAYERS = {
    "conv": 5,
    "depthwise": 3,
    "max_pool": 1,
    "avg_pool": 1,
    "residual": 2,
    "relu": 1,
    "relu6": 1,
    "pointwise": 2,
    "upsample": 1,
    "reorder": 1,
    "crop": 1,
    "pad": 1,
    "concat": 1,
    "binary": 2,
    "unary": 1,
    "select": 1,
    "transpose": 1,
    "split": 1,
    "unstack": 1,
    "dilated": 1,
    "matmul": 1,
    "reduce": 1,
    "normalize": 1,
}
# Elementwise operators of `pointwise`, each with the activation whose int8
# output scale fits it (`activation_tensor`).
_POINTWISE = {
    "LEAKY_RELU": "NONE",
    "HARD_SWISH": "NONE",
    "PRELU": "NONE",
    "ELU": "NONE",
    "LOGISTIC": "SIGMOID",
    "TANH": "TANH",
    "ABS": "RELU",
}
# Operators of `binary`, on x and a 1x1 CONV_2D of x.
_BINARY = ["MUL", "SUB", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "DIV"]
# float32 operators of `unary` (TFLM's int8 kernels: ABS, in `pointwise`, and
# RSQRT), and the RMS of their output for an input of RMS r.
_UNARY = {
    "NEG": lambda r: r,
    "SQUARE": lambda r: math.sqrt(3.0) * r * r,
    "EXP": lambda r: math.exp(r * r),
    "FLOOR": lambda r: r + 0.3,
    "LOG": lambda r: 1.0,  # of a LOGISTIC
    "SQRT": lambda r: 0.7,
    "RSQRT": lambda r: 1.6,
}
_COMPARISONS = ["GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "NOT_EQUAL"]
# The fixed int8 output quantization TFLM's kernels require.
_FIXED_QUANT = {
    "SOFTMAX": {"scale": 1 / 256, "zero_point": -128},
    "LOG_SOFTMAX": {"scale": 16 / 256, "zero_point": 127},
    "L2_NORMALIZATION": {"scale": 1 / 128, "zero_point": 0},
}
_ACTIVATIONS = ["NONE", "RELU", "RELU6"]
_CONV_KERNELS = [(1, 1), (3, 3), (1, 3), (3, 1)]


def random_network(seed: int, dtype) -> bytes:
    """The network of `seed`, in `dtype` (np.int8 or np.float32)."""
    return _generate(seed, dtype)[0]


def describe_network(seed: int, dtype) -> list[str]:
    """One line per operator of `random_network(seed, dtype)`, for messages."""
    return _generate(seed, dtype)[1]


def _generate(seed, dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.int8), np.dtype(np.float32)):
        raise ValueError(f"random networks are int8 or float32, not {dtype}")
    rng = np.random.default_rng(seed)
    net = _Network(rng, dtype == np.int8, f"random{seed}")
    kind = rng.random()
    if kind < 0.12:
        net.recurrent()
    elif kind < 0.3:
        net.dense_only()
    else:
        net.spatial()
    return net.finish(), net.layers


class _Network:
    """A chain under construction: the current tensor, its shape and the
    estimated RMS of its real values (which sets int8 scales, as in
    `tflite_builder.example_model`: RMS out = RMS in x the RMS over output
    channels of the weights' L2 norms)."""

    def __init__(self, rng, quantized, name):
        self.rng = rng
        self.quantized = quantized
        self.dtype = np.int8 if quantized else np.float32
        self.b = ModelBuilder(name)
        self.quant = {}  # tensor -> its scale/zero_point keywords ({} in float)
        self.shapes = {}  # activation tensor -> its shape
        self.layers = []  # descriptions, by operator index
        self.x = self.shape = self.rms = None

    # --- the three kinds of network -----------------------------------------

    def spatial(self):
        """NHWC input, 2-6 spatial layers, optionally a dense tail."""
        rng = self.rng
        h, w, c = (int(v) for v in (rng.integers(6, 21), rng.integers(6, 21), rng.integers(1, 9)))
        self.start([1, h, w, c])
        names, weights = list(_LAYERS), np.array(list(_LAYERS.values()), float)
        count, added = int(rng.integers(2, 7)), 0
        while added < count:
            # A layer that would shrink the map below 1x1 is skipped; some
            # layer (a 1x1 conv, a RELU) always fits, so this ends.
            added += getattr(self, names[rng.choice(len(names), p=weights / weights.sum())])()
        if rng.random() < 0.5:
            self.mean() if rng.random() < 0.3 else self.flatten()
            self.fully_connected(int(rng.integers(4, 33)))
            if rng.random() < 0.5:
                self.fully_connected(int(rng.integers(4, 33)))
            self.classify()
        self.b.output(self.x)

    def dense_only(self):
        """A [1, F] feature input through 2-4 FULLY_CONNECTED layers or
        BATCH_MATMULs, optionally a SOFTMAX or LOG_SOFTMAX."""
        rng = self.rng
        self.start([1, int(rng.integers(8, 65))])
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() >= 0.25 or not self.dense_matmul():
                self.fully_connected(int(rng.integers(4, 65)))
        self.classify()
        self.b.output(self.x)

    def recurrent(self):
        """A sequence [1, T, F] through an UNIDIRECTIONAL_SEQUENCE_LSTM
        (optionally a BATCH_MATMUL on its steps), flattened; or a frame
        [1, F]; then, or instead, an SVDF; then FULLY_CONNECTED layers."""
        rng = self.rng
        kind = ("lstm", "svdf", "both")[rng.integers(3)]
        steps, features = int(rng.integers(2, 7)), int(rng.integers(2, 13))
        if kind == "svdf":
            self.start([1, features])
        else:
            self.start([1, steps, features])
            self.lstm(int(rng.integers(2, 9)))
            if rng.random() < 0.3:
                self.batch_matmul([1, steps, self.shape[2]], int(rng.integers(2, 9)))
            self.flatten()
        if kind != "lstm":
            self.svdf()
        for _ in range(int(rng.integers(1, 3))):
            self.fully_connected(int(rng.integers(2, 17)))
        self.b.output(self.x)

    def finish(self) -> bytes:
        return self.b.finish()

    # --- layers: each returns 1 when added, 0 when skipped -----------------

    def start(self, shape):
        if self.quantized:
            q = {"scale": _EXAMPLE_INPUT_SCALE, "zero_point": _EXAMPLE_INPUT_ZERO_POINT}
        else:
            q = {}
        self.x = self.b.input(shape, self.dtype, **q)
        self.quant[self.x], self.shapes[self.x] = q, list(shape)
        self.shape, self.rms = list(shape), _EXAMPLE_INPUT_RMS

    def conv(self):
        rng = self.rng
        kernel = _CONV_KERNELS[rng.integers(len(_CONV_KERNELS))]
        stride = int(rng.integers(1, 3))
        padding = str(rng.choice(["SAME", "VALID"]))
        out_c = int(rng.integers(2, 17))
        out_hw = _window_output(self.shape[1:3], kernel, stride, padding)
        if out_hw is None:
            return 0
        weights = self.weights([out_c, *kernel, self.shape[3]], 0)
        options = {"padding": padding, "stride": (stride, stride)}
        self.weighted("CONV_2D", weights, 0, [1, *out_hw, out_c], self.activation(), **options)
        return 1

    def depthwise(self):
        rng = self.rng
        stride = int(rng.integers(1, 3))
        padding = str(rng.choice(["SAME", "VALID"]))
        out_hw = _window_output(self.shape[1:3], (3, 3), stride, padding)
        if out_hw is None:
            return 0
        c = self.shape[3]
        options = {"padding": padding, "stride": (stride, stride)}
        self.weighted(
            "DEPTHWISE_CONV_2D", self.weights([1, 3, 3, c], 3), 3, [1, *out_hw, c], self.activation(), **options
        )
        return 1

    def max_pool(self):
        return self.pool("MAX_POOL_2D")

    def avg_pool(self):
        return self.pool("AVERAGE_POOL_2D")

    def pool(self, opcode):
        """2x2/2 VALID; the output keeps the input's quantization, as TFLM's
        int8 pooling assumes."""
        if min(self.shape[1:3]) < 2:
            return 0
        out_shape = [1, self.shape[1] // 2, self.shape[2] // 2, self.shape[3]]
        self.same_quant(opcode, out_shape, filter_size=(2, 2), stride=(2, 2), padding="VALID")
        return 1

    def residual(self):
        """x -> CONV_2D 1x1 (same channels) -> ADD(x, that)."""
        x, x_rms = self.x, self.rms
        branch = self.branch()
        self.add(x, branch, math.sqrt(x_rms**2 + self.rms**2))
        return 1

    def relu(self):
        """RELU rescales in TFLM: its output gets its own (fitted) scale."""
        y = self.activation_tensor(list(self.shape), self.rms, "RELU")
        self.op("RELU", [self.x], y)
        self.rms = _after(self.rms, "RELU")
        return 1

    def relu6(self):
        """TFLM's int8 RELU6 clamps without rescaling: output quantization
        is the input's."""
        self.same_quant("RELU6", list(self.shape))
        return 1

    def pointwise(self):
        """An elementwise operator of `_POINTWISE`."""
        opcode = list(_POINTWISE)[self.rng.integers(len(_POINTWISE))]
        activation = _POINTWISE[opcode]
        inputs, options = [self.x], {}
        if opcode == "LEAKY_RELU":
            options["alpha"] = float(self.rng.choice([0.1, 0.2, 0.3]))
        if opcode == "PRELU":
            alpha = self.rng.uniform(-0.5, 0.5, [1, 1, self.shape[3]]).astype(np.float32)
            inputs.append(self.const(alpha))
        y = self.activation_tensor(list(self.shape), self.rms, activation)
        self.op(opcode, inputs, y, **options)
        if activation in ("SIGMOID", "TANH"):
            self.rms = 0.5
        return 1

    def binary(self):
        """x op a 1x1 CONV_2D of x, for an operator of `_BINARY`. MAXIMUM and
        MINIMUM compare raw int8 values: the branch is quantized as x."""
        opcode = _BINARY[self.rng.integers(len(_BINARY))]
        if opcode == "DIV":
            return self.divide()
        x, x_rms = self.x, self.rms
        branch = self.branch(like=x if opcode in ("MAXIMUM", "MINIMUM") else None)
        shape, b_rms = list(self.shape), self.rms
        if opcode in ("MAXIMUM", "MINIMUM"):
            self.op(opcode, [x, branch], self.tensor(shape, like=x))
            self.rms = max(x_rms, b_rms)
        elif opcode == "SQUARED_DIFFERENCE":  # non-negative, heavy-tailed
            rms = math.sqrt(3.0) * (x_rms**2 + b_rms**2)
            self.op(opcode, [x, branch], self.activation_tensor(shape, rms, "RELU"))
            self.rms = rms
        elif opcode == "SUB":
            self.add(x, branch, math.sqrt(x_rms**2 + b_rms**2), "SUB")
        else:
            self.add(x, branch, x_rms * b_rms, "MUL")
        return 1

    def divide(self):
        """DIV of x where it is always defined: in float32 by 1 + a RELU6'd
        1x1 CONV_2D of x (1 to 7); in int8 by a positive per-channel constant
        (0.5 to 2), with an output scale that keeps TFLM's final shift
        (`div_defined` in the operator tests) below 32 bits for every x."""
        x, x_rms, shape = self.x, self.rms, list(self.shape)
        if self.quantized:
            divisor = self.rng.uniform(0.5, 2.0, shape[3]).astype(np.float32)
            d_scale = 2.0 / 127.0
            d = self.b.const(np.round(divisor / d_scale).astype(np.int8), scale=d_scale, zero_point=0)
            rms = x_rms * float(np.sqrt(np.mean(divisor**-2.0)))
            q = {"scale": min(_RANGE_IN_RMS * rms / 127.0, self.quant[x]["scale"] / (64 * d_scale)), "zero_point": 0}
        else:
            d = self.tensor(shape)
            self.op("ADD", [self.branch(activation="RELU6"), self.b.const(np.ones([1], np.float32))], d)
            rms, q = x_rms / 3.0, {}
        activation = self.activation()
        self.op("DIV", [x, d], self.tensor(shape, q=q), activation=activation)
        self.rms = _after(rms, activation)
        return 1

    def unary(self):
        """A float32 operator of `_UNARY` (LOG, SQRT and RSQRT of a
        LOGISTIC: positive values); in int8 RSQRT of a LOGISTIC. EXP and
        SQUARE only of small values, so that nothing overflows."""
        if self.quantized:
            self.logistic()
            y = self.activation_tensor(list(self.shape), _UNARY["RSQRT"](0), "RELU")
            self.op("RSQRT", [self.x], y)
            self.rms = _UNARY["RSQRT"](0)
            return 1
        opcode = list(_UNARY)[self.rng.integers(len(_UNARY))]
        if (opcode == "EXP" and self.rms > 1.5) or (opcode == "SQUARE" and self.rms > 4):
            return 0
        if opcode in ("LOG", "SQRT", "RSQRT"):
            self.logistic()
        self.op(opcode, [self.x], self.tensor(list(self.shape)))
        self.rms = _UNARY[opcode](self.rms)
        return 1

    def logistic(self):
        self.op("LOGISTIC", [self.x], self.activation_tensor(list(self.shape), self.rms, "SIGMOID"))
        self.rms = 0.5

    def select(self):
        """SELECT_V2(x cmp branch, x, branch), the branch a 1x1 CONV_2D of x
        quantized as x (TFLM selects raw values); the condition optionally
        through LOGICAL_NOT, or LOGICAL_AND / LOGICAL_OR with x > 0."""
        rng, x = self.rng, self.x
        branch = self.branch(like=x)
        shape = list(self.shape)
        cond = self.tensor(shape, np.bool_)
        self.op(_COMPARISONS[rng.integers(len(_COMPARISONS))], [x, branch], cond)
        logical = ("", "LOGICAL_NOT", "LOGICAL_AND", "LOGICAL_OR")[rng.integers(4)]
        if logical == "LOGICAL_NOT":
            cond, inputs = self.tensor(shape, np.bool_), [cond]
            self.op(logical, inputs, cond)
        elif logical:
            positive = self.tensor(shape, np.bool_)
            self.op("GREATER", [x, self.const(np.zeros([1], np.float32), like=x)], positive)
            cond, inputs = self.tensor(shape, np.bool_), [cond, positive]
            self.op(logical, inputs, cond)
        self.op("SELECT_V2", [cond, x, branch], self.tensor(shape, like=x))
        return 1

    def transpose(self):
        """TRANSPOSE swapping H and W."""
        n, h, w, c = self.shape
        self.same_quant("TRANSPOSE", [n, w, h, c], shape_const=np.asarray([0, 2, 1, 3], np.int32))
        return 1

    def split(self):
        """SPLIT (equal parts) or SPLIT_V along the channels, then the parts
        CONCATENATED back in another order, or two halves ADDed."""
        rng, x, (n, h, w, c) = self.rng, self.x, self.shape
        if c < 2:
            return 0
        if rng.random() < 0.5:
            count = int(rng.choice([k for k in (2, 3, 4) if c % k == 0] or [1]))
            if count == 1:
                return 0
            sizes = [c // count] * count
            parts = [self.tensor([n, h, w, s], like=x) for s in sizes]
            self.op("SPLIT", [self.const_ints([3]), x], parts, num_splits=count)
        else:
            cuts = sorted(rng.choice(np.arange(1, c), size=min(int(rng.integers(1, 3)), c - 1), replace=False))
            sizes = np.diff([0, *cuts, c]).tolist()
            parts = [self.tensor([n, h, w, s], like=x) for s in sizes]
            given = [*sizes[:-1], -1] if rng.random() < 0.5 else sizes
            self.op("SPLIT_V", [x, self.const_ints(given), self.const_ints([3])], parts, num_splits=len(sizes))
        if len(parts) == 2 and sizes[0] == sizes[1] and rng.random() < 0.5:
            self.add(parts[0], parts[1], math.sqrt(2.0) * self.rms)
            return 1
        order = rng.permutation(len(parts))
        if (order == np.arange(len(parts))).all():
            order = order[::-1]
        self.op("CONCATENATION", [parts[i] for i in order], self.tensor([n, h, w, c], like=x), axis=3)
        return 1

    def unstack(self):
        """UNPACK along an axis of 2 to 6, then PACK of the pieces in reverse
        order (a flip of that axis)."""
        x, shape = self.x, self.shape
        axes = [a for a in (1, 2, 3) if 2 <= shape[a] <= 6]
        if not axes:
            return 0
        axis = axes[self.rng.integers(len(axes))]
        piece = [d for a, d in enumerate(shape) if a != axis]
        pieces = [self.tensor(piece, like=x) for _ in range(shape[axis])]
        self.op("UNPACK", [x], pieces, num=len(pieces), axis=axis)
        self.op("PACK", pieces[::-1], self.tensor(list(shape), like=x), values_count=len(pieces), axis=axis)
        return 1

    def upsample(self):
        """x2: RESIZE_NEAREST_NEIGHBOR (a raw copy) or a stride-2
        TRANSPOSE_CONV, on maps of at most 10x10; or RESIZE_BILINEAR to up to
        twice the size (at most 20)."""
        if max(self.shape[1:3]) > 10:
            return 0
        out_hw = [2 * self.shape[1], 2 * self.shape[2]]
        choice = self.rng.integers(3)
        if choice == 0:
            size = self.const_ints(out_hw)
            options = {"half_pixel_centers": bool(self.rng.random() < 0.5)}
            self.op("RESIZE_NEAREST_NEIGHBOR", [self.x, size], self.tensor([1, *out_hw, self.shape[3]]), **options)
            return 1
        if choice == 1:
            out_hw = [int(self.rng.integers(s, 2 * s + 1)) for s in self.shape[1:3]]
            corners = ({}, {"align_corners": True}, {"half_pixel_centers": True})[self.rng.integers(3)]
            size = self.const_ints(out_hw)
            self.op("RESIZE_BILINEAR", [self.x, size], self.tensor([1, *out_hw, self.shape[3]]), **corners)
            return 1
        kernel = (int(self.rng.integers(2, 4)),) * 2
        out_c = int(self.rng.integers(2, 9))
        weights = self.weights([out_c, *kernel, self.shape[3]], 0)
        shape = self.const_ints([1, *out_hw, out_c])
        self.weighted(
            "TRANSPOSE_CONV", weights, 0, [1, *out_hw, out_c], "NONE", padding="SAME", stride=(2, 2), first=shape
        )
        return 1

    def dilated(self):
        """A 3x3 CONV_2D with dilation 2 as converters write it:
        SPACE_TO_BATCH_ND (block 2x2; an odd map PADded to even first, as
        TFLM leaves SPACE_TO_BATCH_ND's own padding unset), CONV_2D SAME,
        BATCH_TO_SPACE_ND cropping the rows and columns padded."""
        n, h, w, c = self.shape
        if min(h, w) < 2:
            return 0
        extra = [h % 2, w % 2]
        if any(extra):
            pads = np.asarray([[0, 0], [0, extra[0]], [0, extra[1]], [0, 0]], np.int32)
            self.op("PAD", [self.x, self.b.const(pads)], self.tensor([n, h + extra[0], w + extra[1], c]))
        hh, ww = (h + extra[0]) // 2, (w + extra[1]) // 2
        block, zeros = self.const_ints([2, 2]), self.b.const(np.zeros((2, 2), np.int32))
        self.op("SPACE_TO_BATCH_ND", [self.x, block, zeros], self.tensor([4, hh, ww, c]))
        out_c = int(self.rng.integers(2, 17))
        weights = self.weights([out_c, 3, 3, c], 0)
        self.weighted("CONV_2D", weights, 0, [4, hh, ww, out_c], self.activation(), padding="SAME")
        crops = self.b.const(np.asarray([[0, extra[0]], [0, extra[1]]], np.int32))
        self.op("BATCH_TO_SPACE_ND", [self.x, block, crops], self.tensor([n, h, w, out_c]))
        return 1

    def matmul(self):
        """A 1x1 convolution as a BATCH_MATMUL of the map, reshaped to rows
        of channels ([1, H*W, C] or [H, W, C]), with constant weights."""
        n, h, w, c = self.shape
        rows = [1, h * w, c] if self.rng.random() < 0.5 else [h, w, c]
        self.same_quant("RESHAPE", rows, shape_const=np.asarray(rows, np.int32), new_shape=rows)
        out_c = int(self.rng.integers(2, 17))
        self.batch_matmul(rows, out_c)
        self.same_quant("RESHAPE", [n, h, w, out_c], shape_const=np.asarray([n, h, w, out_c], np.int32))
        return 1

    def reorder(self):
        """SPACE_TO_DEPTH or DEPTH_TO_SPACE with a block of 2, where the
        shape allows."""
        n, h, w, c = self.shape
        if h % 2 == 0 and w % 2 == 0 and (c % 4 or self.rng.random() < 0.5):
            self.same_quant("SPACE_TO_DEPTH", [n, h // 2, w // 2, 4 * c], block_size=2)
        elif c % 4 == 0:
            self.same_quant("DEPTH_TO_SPACE", [n, 2 * h, 2 * w, c // 4], block_size=2)
        else:
            return 0
        return 1

    def crop(self):
        """STRIDED_SLICE dropping a border of one, or every other row; or a
        SLICE of a window of at least half the map."""
        n, h, w, c = self.shape
        if min(h, w) < 4:
            return 0
        choice = self.rng.integers(3)
        if choice == 2:
            begin = [0, *(int(self.rng.integers(0, d // 4 + 1)) for d in (h, w)), 0]
            size = [n, *(int(self.rng.integers(d // 2, d - b + 1)) for d, b in zip((h, w), begin[1:3]))]
            given = [*size, -1] if self.rng.random() < 0.5 else [*size, c]
            inputs = [self.x, self.const_ints(begin), self.const_ints(given)]
            self.op("SLICE", inputs, self.tensor([*size, c]))
            return 1
        if choice == 0:
            begin, end, strides, out = [0, 1, 1, 0], [n, h - 1, w - 1, c], [1, 1, 1, 1], [n, h - 2, w - 2, c]
        else:
            begin, end, strides, out = [0, 0, 0, 0], [n, h, w, c], [1, 2, 1, 1], [n, -(-h // 2), w, c]
        consts = [self.const_ints(v) for v in (begin, end, strides)]
        self.op("STRIDED_SLICE", [self.x, *consts], self.tensor(out))
        return 1

    def pad(self):
        """PAD of one or two rows and columns (with the zero point)."""
        pads = self.rng.integers(0, 3, (4, 2))
        pads[0] = pads[3] = 0
        n, h, w, c = self.shape
        out = [n, h + int(pads[1].sum()), w + int(pads[2].sum()), c]
        self.op("PAD", [self.x, self.b.const(pads.astype(np.int32))], self.tensor(out))
        return 1

    def concat(self):
        """x and a 1x1 CONV_2D of x (quantized as x), along the channels."""
        x, c = self.x, self.shape[3]
        out_c = int(self.rng.integers(1, 9))
        branch = self.weighted(
            "CONV_2D", self.weights([out_c, 1, 1, c], 0), 0, [*self.shape[:3], out_c], "NONE", like=x
        )
        self.op("CONCATENATION", [x, branch], self.tensor([*self.shape[:3], c + out_c], like=x), axis=3)
        return 1

    def reduce(self):
        """SUM, REDUCE_MAX, REDUCE_MIN or MEAN over H or W, keeping dims;
        TFLM's REDUCE_MAX and REDUCE_MIN keep the input's quantization."""
        opcode = ("SUM", "REDUCE_MAX", "REDUCE_MIN", "MEAN")[self.rng.integers(4)]
        axis = int(self.rng.integers(1, 3))
        out = [1 if a == axis else d for a, d in enumerate(self.shape)]
        count = self.shape[axis]
        inputs = [self.x, self.const_ints([axis])]
        if opcode in ("REDUCE_MAX", "REDUCE_MIN"):
            self.op(opcode, inputs, self.tensor(out), keep_dims=True)
            return 1
        # A sum of values that do not all average out (after a RELU).
        rms = self.rms * count**0.75 if opcode == "SUM" else self.rms
        self.op(opcode, inputs, self.activation_tensor(out, rms, "NONE"), keep_dims=True)
        self.rms = rms
        return 1

    def normalize(self):
        """SOFTMAX, LOG_SOFTMAX or L2_NORMALIZATION over the channels."""
        c = self.shape[3]
        if c < 2:
            return 0
        self.normalization(("SOFTMAX", "LOG_SOFTMAX", "L2_NORMALIZATION")[self.rng.integers(3)])
        return 1

    def mean(self):
        """Global average: MEAN over H and W, then [1, C]."""
        c = self.shape[3]
        y = self.activation_tensor([1, c], self.rms, "NONE")
        self.op("MEAN", [self.x, self.const_ints([1, 2])], y)

    def flatten(self):
        n = math.prod(self.shape)
        self.same_quant("RESHAPE", [1, n], shape_const=np.array([1, n], np.int32), new_shape=[1, n])

    def fully_connected(self, units):
        weights = self.weights([units, self.shape[1]], 0)
        self.weighted("FULLY_CONNECTED", weights, 0, [1, units], self.activation(), per_channel=False)

    def dense_matmul(self):
        """[1, F] as [1, A, F / A] through a BATCH_MATMUL, then [1, A * K];
        skipped (0) when F is prime."""
        features = self.shape[1]
        divisors = [a for a in range(2, features) if features % a == 0 and features // a >= 2]
        if not divisors:
            return 0
        a = int(divisors[self.rng.integers(len(divisors))])
        rows = [1, a, features // a]
        self.same_quant("RESHAPE", rows, shape_const=np.asarray(rows, np.int32), new_shape=rows)
        self.batch_matmul(rows, int(self.rng.integers(2, 9)))
        self.flatten()
        return 1

    def classify(self):
        """At the end of a dense stack, sometimes SOFTMAX or LOG_SOFTMAX."""
        choice = self.rng.integers(4)
        if choice < 2:
            self.normalization(("SOFTMAX", "LOG_SOFTMAX")[choice])

    def lstm(self, units):
        """An UNIDIRECTIONAL_SEQUENCE_LSTM of the [1, T, F] sequence: float32,
        or TFLM's 8x8->16 one, whose output keeps the hidden state's scale."""
        rng, h_q = self.rng, {}
        if self.quantized:
            h_q = {"scale": float(rng.uniform(1 / 140, 1 / 100)), "zero_point": int(rng.integers(-10, 11))}
            y = sequence_lstm_int8_layer(self.b, rng, self.x, self.quant[self.x]["scale"], self.shape, units, h_q)
        else:
            y = sequence_lstm_layer(self.b, rng, self.x, self.shape, units)
        self.record("UNIDIRECTIONAL_SEQUENCE_LSTM", [self.x], y, [*self.shape[:2], units], h_q)
        self.rms = 0.5

    def svdf(self):
        """An SVDF of the [1, F] frame (rank 1 or 2, memory of 2-8 frames)."""
        rng = self.rng
        units, memory, rank = int(rng.integers(2, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 3))
        activation = ("NONE", "RELU")[rng.integers(2)]
        x_q = self.quant[self.x]
        y, y_q = svdf_layer(self.b, rng, self.x, x_q, self.shape, units, memory, rank, activation)
        self.record("SVDF", [self.x], y, [1, units], y_q, rank=rank, activation=activation)
        self.rms = y_q["scale"] * 127 / _RANGE_IN_RMS if y_q else 1.0

    # --- helpers ------------------------------------------------------------

    def activation(self):
        return _ACTIVATIONS[self.rng.integers(len(_ACTIVATIONS))]

    def weights(self, shape, channel_axis):
        fan_in = math.prod(shape) // shape[channel_axis]
        return self.rng.normal(0.0, 1.0 / math.sqrt(fan_in), shape).astype(np.float32)

    def quantized_weights(self, weights, channel_axis, per_channel):
        """int8 symmetric weights, per channel or per tensor; returns the
        constant and its scale(s)."""
        other_axes = tuple(a for a in range(weights.ndim) if a != channel_axis)
        if per_channel:
            w_scale = np.abs(weights).max(axis=other_axes) / 127.0
            channel_shape = [-1 if a == channel_axis else 1 for a in range(weights.ndim)]
            w_data = np.round(weights / w_scale.reshape(channel_shape))
        else:
            w_scale = np.float32(np.abs(weights).max() / 127.0)
            w_data = np.round(weights / w_scale)
        data = np.clip(w_data, -127, 127).astype(np.int8)
        return self.b.const(data, scale=w_scale, quantized_dimension=channel_axis), w_scale

    def weighted(
        self, opcode, weights, channel_axis, out_shape, activation, per_channel=True, first=None, like=None, **options
    ):
        """A conv-like operator on the current tensor; returns its output,
        which becomes the current tensor. TRANSPOSE_CONV takes its output
        shape `first` and the input after the weights; `like` gives the
        output that tensor's quantization."""
        x, b = self.x, self.b
        rms = self.rms * _weights_gain(weights, channel_axis)
        bias = self.rng.normal(0.0, 0.1 * rms, weights.shape[channel_axis]).astype(np.float32)
        if self.quantized:
            w, w_scale = self.quantized_weights(weights, channel_axis, per_channel)
            bias_scale = np.float32(self.quant[x]["scale"]) * np.asarray(w_scale, np.float32)
            bias_t = b.const(np.round(bias / bias_scale).astype(np.int32), scale=bias_scale)
        else:
            w, bias_t = b.const(weights), b.const(bias)
        if like is None:
            y = self.activation_tensor(out_shape, rms, activation)
        else:
            y = self.tensor(out_shape, like=like)
        inputs = [x, w, bias_t] if first is None else [first, w, x, bias_t]
        self.op(opcode, inputs, y, activation=activation, **options)
        self.rms = _after(rms, activation)
        return y

    def branch(self, like=None, activation=None):
        """A 1x1 CONV_2D of x to as many channels (fitted, or quantized as
        `like`), which becomes the current tensor; returns it."""
        c = self.shape[3]
        activation = self.activation() if activation is None else activation
        return self.weighted("CONV_2D", self.weights([c, 1, 1, c], 0), 0, list(self.shape), activation, like=like)

    def add(self, x, y, rms, opcode="ADD"):
        """ADD, SUB or MUL of x and y, whose output RMS is `rms`, with a
        random fused activation."""
        activation = self.activation()
        out = self.activation_tensor(list(self.shapes[x]), rms, activation)
        self.op(opcode, [x, y], out, activation=activation)
        self.rms = _after(rms, activation)

    def batch_matmul(self, rows, out_c):
        """BATCH_MATMUL of the current [..., C] tensor by constant [C, K]
        weights (stored [K, C] with adj_y), quantized per tensor."""
        c = rows[-1]
        weights = self.weights([c, out_c], 1)
        adj_y = bool(self.rng.random() < 0.5)
        rms = self.rms * _weights_gain(weights, 1)
        stored = weights.T.copy() if adj_y else weights
        if self.quantized:
            w, _ = self.quantized_weights(stored, 0, per_channel=False)
        else:
            w = self.b.const(stored)
        self.op("BATCH_MATMUL", [self.x, w], self.activation_tensor([*rows[:-1], out_c], rms, "NONE"), adj_y=adj_y)
        self.rms = rms

    def normalization(self, opcode):
        """SOFTMAX, LOG_SOFTMAX or L2_NORMALIZATION over the last axis, with
        the int8 output quantization TFLM requires."""
        c = self.shape[-1]
        options = {"beta": 1.0} if opcode == "SOFTMAX" else {}
        q = _FIXED_QUANT[opcode] if self.quantized else {}
        self.op(opcode, [self.x], self.tensor(list(self.shape), q=q), **options)
        self.rms = {"SOFTMAX": 1.5 / c, "LOG_SOFTMAX": 1.0 + math.log(c), "L2_NORMALIZATION": 1 / math.sqrt(c)}[opcode]

    def activation_tensor(self, shape, rms, activation):
        """A new activation whose int8 range covers `_RANGE_IN_RMS` times the
        RMS of its pre-activation values (the non-negative part after a
        RELU, at most 6 after a RELU6), so few values saturate."""
        q = {}
        if self.quantized:
            span = _RANGE_IN_RMS * rms
            if activation in ("SIGMOID", "TANH"):  # TFLM's int8 LOGISTIC and TANH need these
                q = (
                    {"scale": 1 / 256, "zero_point": -128}
                    if activation == "SIGMOID"
                    else {"scale": 1 / 128, "zero_point": 0}
                )
            elif activation == "NONE":
                q = {"scale": span / 127.0, "zero_point": 0}
            else:
                q = {"scale": (min(span, 6.0) if activation == "RELU6" else span) / 255.0, "zero_point": -128}
        return self.tensor(shape, q=q)

    def tensor(self, shape, dtype=None, like=None, q=None):
        """A new tensor of `shape`: of the network's type, quantized as
        `like` (default: the current tensor) or with `q`; or of `dtype`
        (bool), unquantized."""
        if dtype is not None:
            q = {}
        elif q is None:
            q = self.quant[self.x if like is None else like]
        y = self.b.tensor(shape, self.dtype if dtype is None else dtype, **q)
        self.quant[y], self.shapes[y] = q, list(shape)
        return y

    def const(self, data, like=None):
        """A float32 constant, in int8 quantized as `like` or symmetric."""
        if not self.quantized:
            return self.b.const(data)
        if like is not None:
            q = self.quant[like]
            codes = np.round(data / q["scale"]) + q["zero_point"]
            return self.b.const(np.clip(codes, -128, 127).astype(np.int8), **q)
        scale = max(float(np.abs(data).max()), 1e-6) / 127.0
        return self.b.const(np.round(data / scale).astype(np.int8), scale=scale, zero_point=0)

    def const_ints(self, values):
        return self.b.const(np.asarray(values, np.int32))

    def same_quant(self, opcode, out_shape, shape_const=None, **options):
        """An operator whose output keeps its input's quantization."""
        inputs = [self.x] if shape_const is None else [self.x, self.b.const(shape_const)]
        self.op(opcode, inputs, self.tensor(out_shape), **options)

    def record(self, opcode, inputs, y, shape, q, **options):
        """Records an operator some builder appended, and moves on to `y`."""
        self.quant[y], self.shapes[y] = q, list(shape)
        self.describe(opcode, inputs, [y], options)

    def op(self, opcode, inputs, outputs, **options):
        """Appends the operator, records its description, moves on to (the
        first of) `outputs`."""
        outputs = outputs if isinstance(outputs, list) else [outputs]
        self.b.op(opcode, inputs, outputs, **options)
        self.describe(opcode, inputs, outputs, options)

    def describe(self, opcode, inputs, outputs, options):
        shapes = ",".join("x".join(map(str, self.shapes[t])) for t in inputs if t in self.shapes)
        details = " ".join(f"{k}={v}" for k, v in options.items() if k != "new_shape")
        out = ",".join("x".join(map(str, self.shapes[y])) for y in outputs)
        self.layers.append(f"{opcode}:{len(self.layers)} {shapes}->{out} {details}".rstrip())
        self.x, self.shape = outputs[0], self.shapes[outputs[0]]


def _window_output(size, kernel, stride, padding):
    """Output (H, W) of a window op, or None if it would be empty."""
    if padding == "SAME":
        out = [-(-s // stride) for s in size]
    else:
        out = [(s - k) // stride + 1 if s >= k else 0 for s, k in zip(size, kernel)]
    return out if min(out) >= 1 else None


def _weights_gain(weights, channel_axis):
    """The RMS over output channels of the weights' L2 norms."""
    other_axes = tuple(a for a in range(weights.ndim) if a != channel_axis)
    return float(np.sqrt((weights**2).sum(axis=other_axes).mean()))


def _after(rms, activation):
    """RMS after a fused activation: a RELU keeps about half the power."""
    return rms if activation == "NONE" else rms / math.sqrt(2.0)


def float_input_mobilenet(size: int = 160) -> bytes:
    """A MobileNetV2-style int8 network behind a float32 image input, as
    converters write one: QUANTIZE, then MUL and SUB by constants (the
    input normalization), a stride-2 CONV_2D, inverted residual blocks
    (1x1 expansion, 3x3 DEPTHWISE_CONV_2D, 1x1 projection, ADD when the
    shape allows), MEAN and FULLY_CONNECTED. Weights are seeded."""
    net = _Network(np.random.default_rng(0), True, "mobilenet")
    b = net.b
    shape = [1, size, size, 3]
    net.x = b.input(shape, np.float32)
    net.quant[net.x], net.shapes[net.x] = {}, list(shape)
    net.shape, net.rms = list(shape), _EXAMPLE_INPUT_RMS
    q = {"scale": _EXAMPLE_INPUT_SCALE, "zero_point": _EXAMPLE_INPUT_ZERO_POINT}
    y = b.tensor(shape, np.int8, **q)
    net.quant[y], net.shapes[y] = q, list(shape)
    net.op("QUANTIZE", [net.x], y)
    for opcode, real in (("MUL", 2.0), ("SUB", 1.0)):  # x * 2 - 1
        constant = b.const(np.asarray([127], np.int8), scale=real / 127, zero_point=0)
        rms = net.rms * real if opcode == "MUL" else math.sqrt(net.rms**2 + real**2)
        net.op(opcode, [net.x, constant], net.activation_tensor(list(shape), rms, "NONE"), activation="NONE")
        net.rms = rms
    half = [1, size // 2, size // 2, 8]
    net.weighted("CONV_2D", net.weights([8, 3, 3, 3], 0), 0, half, "RELU6", padding="SAME", stride=(2, 2))
    for expansion, out_c, stride in ((1, 8, 1), (4, 12, 2), (6, 12, 1), (6, 16, 2)):
        x, x_rms, (n, h, w, c) = net.x, net.rms, net.shape
        if expansion > 1:
            net.weighted("CONV_2D", net.weights([c * expansion, 1, 1, c], 0), 0, [n, h, w, c * expansion], "RELU6")
        wide = net.shape[3]
        out_hw = [-(-h // stride), -(-w // stride)]
        options = {"padding": "SAME", "stride": (stride, stride)}
        net.weighted("DEPTHWISE_CONV_2D", net.weights([1, 3, 3, wide], 3), 3, [n, *out_hw, wide], "RELU6", **options)
        net.weighted("CONV_2D", net.weights([out_c, 1, 1, wide], 0), 0, [n, *out_hw, out_c], "NONE")
        if stride == 1 and out_c == c:
            rms = math.sqrt(x_rms**2 + net.rms**2)
            y = net.activation_tensor(list(net.shape), rms, "NONE")
            net.op("ADD", [x, net.x], y, activation="NONE")
            net.rms = rms
    net.mean()
    net.fully_connected(10)
    b.output(net.x)
    return net.finish()
