"""Seeded random small float32 ONNX networks (NCHW), for exactness tests of
fused tiling on ONNX models: the counterpart of `random_networks` for the
operators PyTorch exports.

A seed stands for one chain: convolutions (square and 1x3/3x1 kernels,
strides 1 and 2, symmetric and one-sided pads or an explicit Pad, depthwise
and grouped), max and average pools, nearest
upsampling (Resize), concatenations of two branches, channel gathers,
activations (Relu, Clip, LeakyRelu, Sigmoid, HardSwish, Tanh, HardSigmoid,
PRelu), per-channel affine layers (BatchNormalization, Mul/Add/Sub/Div by a
constant), residual Adds, and a tail (a flatten, a channels-last flatten, a
global mean as exporters write it) before a dense layer (Gemm, or MatMul
and Add), maybe ending in a Softmax; or a chain of dense layers alone.
`random_onnx(seed)` returns the model; `describe_onnx(seed)` lists its
nodes, named `OpType:index` as the compiler names its kernels."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
_LAYERS = {
    "conv": 4,
    "depthwise": 2,
    "grouped": 1,
    "max_pool": 1,
    "avg_pool": 1,
    "affine": 1,
    "residual": 2,
    "concat": 1,
    "gather": 1,
    "upsample": 1,
    "transposed": 1,
}
_ACTIVATIONS = [None, "Relu", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSwish", "Tanh", "HardSigmoid", "PRelu"]
_KERNELS = [(1, 1), (3, 3), (1, 3), (3, 1)]


# Layers whose quantized form may keep float temporaries in the arena: a
# grouped conv, a concatenation, a gather, a resize and a mean stay
# fake-quantized (a float result per output, or a float input read inside
# a body); a softmax keeps its row's exponentials; BatchNormalization
# computes its per-channel factors at run time; an average pool sums in
# float (as onnxruntime's QLinearAveragePool does), which a path feeding a
# global pool keeps for a slice.
_FLOAT_TEMPORARIES = {
    "grouped",
    "affine",
    "avg_pool",
    "concat",
    "gather",
    "upsample",
    "reduce_mean",
    "softmax",
    "transposed",
}


def random_onnx(seed: int) -> bytes:
    return _Network(seed).model()


def describe_onnx(seed: int) -> list[str]:
    net = _Network(seed)
    net.model()
    return [f"{n.op_type}:{i}" for i, n in enumerate(net.nodes)]


def integer_only(seed: int) -> bool:
    """True when every layer of the seed's network, quantized, keeps only
    int8 tensors between kernels: no layer of `_FLOAT_TEMPORARIES`."""
    net = _Network(seed)
    net.model()
    return not net.kinds & _FLOAT_TEMPORARIES


class _Network:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.name = f"random_onnx{seed}"
        self.nodes, self.inits = [], []
        self.kinds = set()  # the layer kinds drawn

    def model(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.2:
            shape = [1, int(rng.integers(2, 40))]
            x = "input"
            first = shape
            for _ in range(int(rng.integers(2, 4))):
                x, shape = self.gemm(x, shape, int(rng.integers(2, 60)))
        else:
            shape = [1, int(rng.integers(1, 9)), int(rng.integers(6, 17)), int(rng.integers(6, 17))]
            first, x = shape, "input"
            x, shape = self.spatial(x, shape)
            x, shape = self.tail(x, shape)
        self.nodes[-1].output[0] = "output"
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, first)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fdt-mlir-tests")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model.SerializeToString()

    # -- building blocks -----------------------------------------------------------

    def const(self, array) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array, np.float32), f"c{len(self.inits)}"))
        return self.inits[-1].name

    def node(self, op, inputs, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [f"t{len(self.nodes)}"], **attrs))
        return self.nodes[-1].output[0]

    def activation(self, x) -> str:
        kind = _ACTIVATIONS[self.rng.integers(len(_ACTIVATIONS))]
        if kind is None:
            return x
        if kind == "Clip":
            return self.node("Clip", [x, self.const(0.0), self.const(6.0)])
        if kind == "LeakyRelu":
            return self.node("LeakyRelu", [x], alpha=0.1)
        if kind == "PRelu":
            return self.node("PRelu", [x, self.const([0.2])])
        return self.node(kind, [x])

    def gemm(self, x, shape, units):
        """A dense layer: Gemm, or MatMul and Add as PyTorch exports a Linear."""
        rng = self.rng
        weights = rng.standard_normal((units, shape[1])) / np.sqrt(shape[1])
        bias = self.const(0.1 * rng.standard_normal(units))
        if rng.random() < 0.3:
            x = self.node("Add", [self.node("MatMul", [x, self.const(weights.T)]), bias])
        else:
            x = self.node("Gemm", [x, self.const(weights), bias], transB=1)
        return self.activation(x), [1, units]

    def int64(self, values) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(values, np.int64), f"c{len(self.inits)}"))
        return self.inits[-1].name

    def spatial(self, x, shape):
        rng = self.rng
        names, weights = list(_LAYERS), np.array(list(_LAYERS.values()), float)
        count, added, previous = int(rng.integers(2, 7)), 0, None
        while added < count:
            kind = names[rng.choice(len(names), p=weights / weights.sum())]
            before = (x, list(shape))
            n, c, h, w = shape
            if kind in ("conv", "depthwise", "grouped"):
                kh, kw = _KERNELS[rng.integers(len(_KERNELS))]
                stride = int(rng.integers(1, 3))
                if kind == "conv":
                    out, group = int(rng.integers(1, 17)), 1
                elif kind == "depthwise":
                    out, group = c, c
                else:
                    if c % 2 or c < 4:
                        continue
                    out, group = 2 * c, 2
                pads = [
                    int(rng.integers(0, kh)),
                    int(rng.integers(0, kw)),
                    int(rng.integers(0, kh)),
                    int(rng.integers(0, kw)),
                ]
                oh, ow = (h + pads[0] + pads[2] - kh) // stride + 1, (w + pads[1] + pads[3] - kw) // stride + 1
                if oh < 1 or ow < 1:
                    continue
                fan_in = kh * kw * c // group
                wt = self.const(rng.standard_normal((out, c // group, kh, kw)) / np.sqrt(fan_in))
                bias = self.const(0.1 * rng.standard_normal(out))
                source = x
                if kind == "conv" and any(pads) and rng.random() < 0.3:  # an explicit Pad, as exporters write
                    source = self.node("Pad", [x, self.int64([0, 0, *pads[:2], 0, 0, *pads[2:]])])
                    pads = [0, 0, 0, 0]
                new = self.node(
                    "Conv", [source, wt, bias], kernel_shape=[kh, kw], strides=[stride, stride], pads=pads, group=group
                )
                new, shape = self.activation(new), [n, out, oh, ow]
            elif kind == "concat":
                outs = [int(rng.integers(1, 9)) for _ in range(2)]
                branches = [
                    self.node("Conv", [x, self.const(rng.standard_normal((o, c, 1, 1)) / np.sqrt(c))]) for o in outs
                ]
                new, shape = self.node("Concat", branches, axis=1), [n, sum(outs), h, w]
            elif kind == "gather":
                if c < 2:
                    continue
                if rng.random() < 0.3:  # x[:, i:i+1] as exported: a scalar index, then Unsqueeze
                    one = self.node("Gather", [x, self.int64(int(rng.integers(c)))], axis=1)
                    new, shape = self.node("Unsqueeze", [one, self.int64([1])]), [n, 1, h, w]
                else:
                    channels = rng.choice(c, size=int(rng.integers(1, c + 1)), replace=False)
                    new, shape = self.node("Gather", [x, self.int64(channels)], axis=1), [n, len(channels), h, w]
            elif kind == "transposed":  # ConvTranspose, as decoders and segmentation heads use it
                k, stride = int(rng.integers(2, 4)), int(rng.integers(1, 3))
                if stride == 2 and (h > 8 or w > 8):
                    continue
                out = int(rng.integers(1, 9))
                pads = [int(rng.integers(0, k)) for _ in range(2)] * 2  # symmetric, as PyTorch exports
                extra = [int(rng.integers(0, stride)) for _ in range(2)]
                oh = (h - 1) * stride - pads[0] - pads[2] + k + extra[0]
                ow = (w - 1) * stride - pads[1] - pads[3] + k + extra[1]
                if oh < 1 or ow < 1:
                    continue
                wt = self.const(rng.standard_normal((c, out, k, k)) / np.sqrt(k * k * c / stride**2))
                new = self.node(
                    "ConvTranspose",
                    [x, wt, self.const(0.1 * rng.standard_normal(out))],
                    kernel_shape=[k, k],
                    strides=[stride, stride],
                    pads=pads,
                    output_padding=extra,
                )
                new, shape = self.activation(new), [n, out, oh, ow]
            elif kind == "upsample":
                if h > 8 or w > 8:
                    continue
                new = self.node("Resize", [x, "", self.const([1.0, 1.0, 2.0, 2.0])], mode="nearest")
                shape = [n, c, 2 * h, 2 * w]
            elif kind in ("max_pool", "avg_pool"):
                k = int(rng.integers(2, 4))
                if h < k or w < k:
                    continue
                op = "MaxPool" if kind == "max_pool" else "AveragePool"
                new = self.node(op, [x], kernel_shape=[k, k], strides=[k, k])
                shape = [n, c, h // k, w // k]
            elif kind == "affine":
                if rng.random() < 0.5:
                    scale, shift, mean = (self.const(rng.uniform(0.5, 1.5, c)) for _ in range(3))
                    var = self.const(rng.uniform(0.5, 1.5, c))
                    new = self.node("BatchNormalization", [x, scale, shift, mean, var])
                else:
                    op = ("Mul", "Add", "Sub", "Div")[rng.integers(4)]
                    new = self.node(op, [x, self.const(rng.uniform(0.5, 1.5, (c, 1, 1)))])
                new = self.activation(new)
            else:
                if previous is None or previous[1] != shape:
                    continue
                new = self.node("Add", [x, previous[0]])
            previous = before if kind != "residual" else None
            x, added = new, added + 1
            self.kinds.add(kind)
        return x, shape

    def tail(self, x, shape):
        """Nothing, or a flatten or a global mean (in one of the forms
        exporters write) before a dense layer, maybe ending in a softmax."""
        rng = self.rng
        choice = rng.integers(6)
        if choice == 0:
            return x, shape
        flat = [1, int(np.prod(shape[1:]))]
        if choice == 1:
            x, shape = self.node("Flatten", [x], axis=1), flat
        elif choice == 2:  # a TensorFlow-style flatten: channels last
            x = self.node("Reshape", [self.node("Transpose", [x], perm=[0, 2, 3, 1]), self.int64([1, -1])])
            shape = flat
        elif choice == 3:
            x, shape = self.node("Flatten", [self.node("GlobalAveragePool", [x])], axis=1), [1, shape[1]]
        elif choice == 4:
            x, shape = self.node("Squeeze", [self.node("GlobalAveragePool", [x]), self.int64([2, 3])]), [1, shape[1]]
        else:
            x, shape = self.node("ReduceMean", [x], axes=[2, 3], keepdims=0), [1, shape[1]]
        self.kinds.add(("flatten", "transpose", "pool", "squeeze", "reduce_mean")[choice - 1])
        x, shape = self.gemm(x, shape, int(rng.integers(2, 11)))
        if rng.random() < 0.2:
            x = self.node("Softmax", [x], axis=1)
            self.kinds.add("softmax")
        return x, shape
