"""Seeded random small TFLite networks, for exactness tests of fused tiling.

Hand-written models cover the operators one at a time; fused tiling is about
chains of them, with every mix of kernel sizes, strides, paddings and shapes
that make tile boundaries awkward. A seed stands for one such chain, so a
failure is reproduced (and reported) by its seed alone.

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

# Layers of the spatial chain, weighted towards the ones that tile.
_LAYERS = {
    "conv": 3,
    "depthwise": 2,
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
    if rng.random() < 0.2:
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

    # --- the two kinds of network -------------------------------------------

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
        self.b.output(self.x)

    def dense_only(self):
        """A [1, F] feature input through 2-4 FULLY_CONNECTED layers."""
        rng = self.rng
        self.start([1, int(rng.integers(8, 65))])
        for _ in range(int(rng.integers(2, 5))):
            self.fully_connected(int(rng.integers(4, 65)))
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
        x, x_rms, c = self.x, self.rms, self.shape[3]
        branch = self.weighted("CONV_2D", self.weights([c, 1, 1, c], 0), 0, list(self.shape), self.activation())
        rms = math.sqrt(x_rms**2 + self.rms**2)
        activation = self.activation()
        y = self.activation_tensor(list(self.shape), rms, activation)
        self.op("ADD", [x, branch], y, activation=activation)
        self.rms = _after(rms, activation)
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
            if self.quantized:
                scale = float(np.abs(alpha).max()) / 127.0
                inputs.append(self.b.const(np.round(alpha / scale).astype(np.int8), scale=scale, zero_point=0))
            else:
                inputs.append(self.b.const(alpha))
        y = self.activation_tensor(list(self.shape), self.rms, activation)
        self.op(opcode, inputs, y, **options)
        if activation in ("SIGMOID", "TANH"):
            self.rms = 0.5
        return 1

    def upsample(self):
        """x2: RESIZE_NEAREST_NEIGHBOR (a raw copy) or a stride-2
        TRANSPOSE_CONV, on maps of at most 10x10."""
        if max(self.shape[1:3]) > 10:
            return 0
        out_hw = [2 * self.shape[1], 2 * self.shape[2]]
        if self.rng.random() < 0.5:
            size = self.b.const(np.asarray(out_hw, np.int32))
            options = {"half_pixel_centers": bool(self.rng.random() < 0.5)}
            y = self.b.tensor([1, *out_hw, self.shape[3]], self.dtype, **self.quant[self.x])
            self.quant[y], self.shapes[y] = self.quant[self.x], [1, *out_hw, self.shape[3]]
            self.op("RESIZE_NEAREST_NEIGHBOR", [self.x, size], y, **options)
            return 1
        kernel = (int(self.rng.integers(2, 4)),) * 2
        out_c = int(self.rng.integers(2, 9))
        weights = self.weights([out_c, *kernel, self.shape[3]], 0)
        shape = self.b.const(np.asarray([1, *out_hw, out_c], np.int32))
        self.weighted(
            "TRANSPOSE_CONV", weights, 0, [1, *out_hw, out_c], "NONE", padding="SAME", stride=(2, 2), first=shape
        )
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
        """STRIDED_SLICE dropping a border of one, or every other row."""
        n, h, w, c = self.shape
        if min(h, w) < 4:
            return 0
        if self.rng.random() < 0.5:
            begin, end, strides, out = [0, 1, 1, 0], [n, h - 1, w - 1, c], [1, 1, 1, 1], [n, h - 2, w - 2, c]
        else:
            begin, end, strides, out = [0, 0, 0, 0], [n, h, w, c], [1, 2, 1, 1], [n, -(-h // 2), w, c]
        consts = [self.b.const(np.asarray(v, np.int32)) for v in (begin, end, strides)]
        y = self.b.tensor(out, self.dtype, **self.quant[self.x])
        self.quant[y], self.shapes[y] = self.quant[self.x], out
        self.op("STRIDED_SLICE", [self.x, *consts], y)
        return 1

    def pad(self):
        """PAD of one or two rows and columns (with the zero point)."""
        pads = self.rng.integers(0, 3, (4, 2))
        pads[0] = pads[3] = 0
        n, h, w, c = self.shape
        out = [n, h + int(pads[1].sum()), w + int(pads[2].sum()), c]
        y = self.b.tensor(out, self.dtype, **self.quant[self.x])
        self.quant[y], self.shapes[y] = self.quant[self.x], out
        self.op("PAD", [self.x, self.b.const(pads.astype(np.int32))], y)
        return 1

    def concat(self):
        """x and a 1x1 CONV_2D of x (quantized as x), along the channels."""
        x, c = self.x, self.shape[3]
        out_c = int(self.rng.integers(1, 9))
        branch = self.weighted(
            "CONV_2D", self.weights([out_c, 1, 1, c], 0), 0, [*self.shape[:3], out_c], "NONE", like=x
        )
        out = [*self.shape[:3], c + out_c]
        y = self.b.tensor(out, self.dtype, **self.quant[x])
        self.quant[y], self.shapes[y] = self.quant[x], out
        self.op("CONCATENATION", [x, branch], y, axis=3)
        return 1

    def mean(self):
        """Global average: MEAN over H and W, then [1, C]."""
        c = self.shape[3]
        y = self.activation_tensor([1, c], self.rms, "NONE")
        self.op("MEAN", [self.x, self.b.const(np.asarray([1, 2], np.int32))], y)

    def flatten(self):
        n = math.prod(self.shape)
        self.same_quant("RESHAPE", [1, n], shape_const=np.array([1, n], np.int32), new_shape=[1, n])

    def fully_connected(self, units):
        weights = self.weights([units, self.shape[1]], 0)
        self.weighted("FULLY_CONNECTED", weights, 0, [1, units], self.activation(), per_channel=False)

    # --- helpers ------------------------------------------------------------

    def activation(self):
        return _ACTIVATIONS[self.rng.integers(len(_ACTIVATIONS))]

    def weights(self, shape, channel_axis):
        fan_in = math.prod(shape) // shape[channel_axis]
        return self.rng.normal(0.0, 1.0 / math.sqrt(fan_in), shape).astype(np.float32)

    def weighted(
        self, opcode, weights, channel_axis, out_shape, activation, per_channel=True, first=None, like=None, **options
    ):
        """A conv-like operator on the current tensor; returns its output,
        which becomes the current tensor. TRANSPOSE_CONV takes its output
        shape `first` and the input after the weights; `like` gives the
        output that tensor's quantization."""
        x, b = self.x, self.b
        other_axes = tuple(a for a in range(weights.ndim) if a != channel_axis)
        rms = self.rms * float(np.sqrt((weights**2).sum(axis=other_axes).mean()))
        bias = self.rng.normal(0.0, 0.1 * rms, weights.shape[channel_axis]).astype(np.float32)
        if self.quantized:
            if per_channel:
                w_scale = np.abs(weights).max(axis=other_axes) / 127.0
                channel_shape = [-1 if a == channel_axis else 1 for a in range(weights.ndim)]
                w_data = np.round(weights / w_scale.reshape(channel_shape))
            else:
                w_scale = np.float32(np.abs(weights).max() / 127.0)
                w_data = np.round(weights / w_scale)
            w = b.const(np.clip(w_data, -127, 127).astype(np.int8), scale=w_scale, quantized_dimension=channel_axis)
            bias_scale = np.float32(self.quant[x]["scale"]) * np.asarray(w_scale, np.float32)
            bias_t = b.const(np.round(bias / bias_scale).astype(np.int32), scale=bias_scale)
        else:
            w, bias_t = b.const(weights), b.const(bias)
        if like is None:
            y = self.activation_tensor(out_shape, rms, activation)
        else:
            y = self.b.tensor(out_shape, self.dtype, **self.quant[like])
            self.quant[y], self.shapes[y] = self.quant[like], list(out_shape)
        inputs = [x, w, bias_t] if first is None else [first, w, x, bias_t]
        self.op(opcode, inputs, y, activation=activation, **options)
        self.rms = _after(rms, activation)
        return y

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
        y = self.b.tensor(shape, self.dtype, **q)
        self.quant[y], self.shapes[y] = q, list(shape)
        return y

    def same_quant(self, opcode, out_shape, shape_const=None, **options):
        """An operator whose output keeps its input's quantization."""
        y = self.b.tensor(out_shape, self.dtype, **self.quant[self.x])
        self.quant[y], self.shapes[y] = self.quant[self.x], list(out_shape)
        inputs = [self.x] if shape_const is None else [self.x, self.b.const(shape_const)]
        self.op(opcode, inputs, y, **options)

    def op(self, opcode, inputs, y, **options):
        """Appends the operator, records its description, moves on to `y`."""
        self.b.op(opcode, inputs, [y], **options)
        shapes = ",".join("x".join(map(str, self.shapes[t])) for t in inputs if t in self.shapes)
        details = " ".join(f"{k}={v}" for k, v in options.items() if k != "new_shape")
        out = "x".join(map(str, self.shapes[y]))
        self.layers.append(f"{opcode}:{len(self.layers)} {shapes}->{out} {details}".rstrip())
        self.x, self.shape = y, self.shapes[y]


def _window_output(size, kernel, stride, padding):
    """Output (H, W) of a window op, or None if it would be empty."""
    if padding == "SAME":
        out = [-(-s // stride) for s in size]
    else:
        out = [(s - k) // stride + 1 if s >= k else 0 for s, k in zip(size, kernel)]
    return out if min(out) >= 1 else None


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
