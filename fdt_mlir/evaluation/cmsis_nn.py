"""A .tflite model's int8 layers through Arm's CMSIS-NN kernels, as one C file.

The Cortex-M benchmark (issue 12) measures the generated C against the
kernels TFLM runs on a Cortex-M: the same layers with the same weights and
input. `cmsis_nn_program` writes that baseline as a plain C program calling
CMSIS-NN's public API (`arm_nnfunctions.h`) with the parameters TFLM's
CMSIS-NN glue (tensorflow/lite/micro/kernels/cmsis_nn/*.cc) derives from the
flatbuffer, so its outputs are bit-identical to TFLM's. CMSIS-NN itself is
never copied: the program is compiled against its Include/ and linked with its
library.

The program defines `fdt_input<i>` (initialised from `inputs`),
`fdt_output<i>`, `fdt_failed_layer` and `void fdt_model_invoke(void)`, and
calls `void fdt_layer(int k)`, which the harness defines, right before
operator k and with -1 after the last. Every activation is a static int8
array of its own (no arena sharing); RESHAPE and SQUEEZE alias their input, so
they run no code. Weights, biases and the per-channel multipliers and shifts
are `static const`.

Scratch buffers: one static buffer, sized at generation time to an upper
bound of what this CMSIS-NN's `*_get_buffer_size` functions return for a layer
on any architecture (plain C, DSP, MVE). `fdt_model_invoke` first calls those
functions, as TFLM's Prepare does, before `fdt_layer(0)` so that the layer
counts hold only the kernels; a layer whose need exceeds the buffer, or a
kernel that returns an error, stops the invoke and leaves its operator index
in `fdt_failed_layer` (-1 when all ran).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FdtError
from ..importers.tflite_fixedpoint import softmax_scaling
from ..importers.tflite_quant import conv_multipliers, fully_connected_multiplier, quantize_multiplier, round_half_away
from ..importers.tflite_reader import Graph, Operator, Tensor, read_tflite

# CMSIS-NN's CH_IN_BLOCK_MVE: the channel block of its MVE depthwise kernel.
_CH_IN_BLOCK_MVE = 124


@dataclass(frozen=True)
class CmsisProgram:
    """What the benchmark builds and how it reads the run."""

    source: str  # one C file
    layers: list[tuple[int, str]]  # (TFLite operator index, "OPCODE:index"), in run order
    outputs: list[int]  # bytes of each model output
    macs: list[int]  # multiply-accumulates of each layer, as `layers`


def cmsis_nn_program(model_path: str, inputs: list[bytes]) -> CmsisProgram:
    """The CMSIS-NN program of the model at `model_path`, run on `inputs`
    (the raw bytes of each model input)."""
    graph = read_tflite(model_path, Path(model_path).stem)
    if len(inputs) != len(graph.inputs):
        raise FdtError(f"'{model_path}' has {len(graph.inputs)} inputs, got {len(inputs)}")
    return _Program(graph).build(inputs)


def _padding(in_size, k, stride, dilation, padding) -> int:
    """TFLite's ComputePaddingHeightWidth: the padding before the first row."""
    eff = (k - 1) * dilation + 1
    out = (in_size + stride - 1) // stride if padding == 0 else (in_size - eff + stride) // stride
    return max(0, ((out - 1) * stride + eff - in_size) // 2)


def _activation_range(fused: int, out: Tensor, opname: str) -> tuple[int, int]:
    """TFLM's CalculateActivationRangeQuantized for int8."""
    scale, zp = np.float32(out.scale[0]), int(out.zero_point[0])

    def quant(f):
        return zp + round_half_away(float(np.float32(f) / scale))

    ranges = {0: (-128, 127), 1: (quant(0.0), 127), 2: (quant(-1.0), quant(1.0)), 3: (quant(0.0), quant(6.0))}
    if fused not in ranges:
        raise FdtError(f"{opname}: fused activation {fused} is not supported by the CMSIS-NN program")
    lo, hi = ranges[fused]
    return max(-128, lo), min(127, hi)


def _conv_scratch_bound(kh, kw, cin, pad_w) -> int:
    """At least arm_convolve_wrapper_s8_get_buffer_size on C, DSP and MVE:
    im2col of 2 columns of int16 (4 bytes per weight, rounded up to 4), 4
    columns of int8 rounded up to 16, or the 1xN kernel's padded row."""
    return 4 * kh * kw * cin + 64 + (kw + pad_w + 1) * cin


def _c_array(ctype: str, name: str, values, storage="static const ") -> str:
    values = [int(v) for v in np.asarray(values).reshape(-1)]
    rows = ",\n  ".join(", ".join(map(str, values[i : i + 24])) for i in range(0, len(values), 24))
    return f"_Alignas(16) {storage}{ctype} {name}[{len(values)}] = {{\n  {rows}\n}};"


def _dims(name, n, h, w, c) -> str:
    return f"static const cmsis_nn_dims {name} = {{.n = {n}, .h = {h}, .w = {w}, .c = {c}}};"


def _tile(w, h) -> str:
    return f"{{.w = {w}, .h = {h}}}"


class _Program:
    def __init__(self, graph: Graph):
        self.g = graph
        self.names: dict[int, str] = {}  # activation tensor -> its C array
        self.constants: set[int] = set()  # constant tensors declared
        self.decls: list[str] = []
        self.prepare: list[str] = []
        self.body: list[str] = []
        self.scratch = 16

    def t(self, index) -> Tensor:
        return self.g.tensors[index]

    def build(self, inputs: list[bytes]) -> CmsisProgram:
        g = self.g
        for index in g.inputs + g.outputs:
            self._int8(self.t(index), "model input/output")
        for index in g.inputs:
            self.activation(index)
        layers, macs = [], []
        for op in g.operators:
            emit = _OPERATORS.get(op.opcode)
            if emit is None:
                raise FdtError(f"unsupported TFLite operator {op.opcode} (operator {op.index}) for CMSIS-NN")
            layers.append((op.index, f"{op.opcode}:{op.index}"))
            self.body.append(f"  fdt_layer({op.index}); /* {op.opcode}:{op.index} */")
            macs.append(emit(self, op))
        io = []
        for i, (index, data) in enumerate(zip(g.inputs, inputs)):
            size = int(np.prod(self.t(index).shape))
            if len(data) != size:
                raise FdtError(f"input {i} of '{g.name}' needs {size} bytes, got {len(data)}")
            io.append(_c_array("int8_t", f"fdt_input{i}", np.frombuffer(data, np.int8), storage=""))
        outputs = [int(np.prod(self.t(index).shape)) for index in g.outputs]
        io += [f"int8_t fdt_output{i}[{size}];" for i, size in enumerate(outputs)]
        copy_in = [f"  memcpy({self.names[x]}, fdt_input{i}, sizeof fdt_input{i});" for i, x in enumerate(g.inputs)]
        copy_out = [f"  memcpy(fdt_output{i}, {self.names[x]}, sizeof fdt_output{i});" for i, x in enumerate(g.outputs)]
        source = "\n".join(
            [
                f"/* Model '{g.name}' through CMSIS-NN's kernels, with TFLM's parameters (fdt_mlir cmsis_nn). */",
                "#include <stddef.h>",
                "#include <stdint.h>",
                "#include <string.h>",
                "",
                '#include "arm_nnfunctions.h"',
                "",
                "void fdt_layer(int k);",
                "",
                "int fdt_failed_layer = -1;",
                *io,
                "",
                f"_Alignas(16) static int8_t fdt_scratch[{self.scratch}];",
                "",
                *self.decls,
                "",
                "/* Points ctx at the scratch buffer for `size` bytes; 0 if they do not fit. */",
                "static int fdt_fits(cmsis_nn_context *ctx, int32_t size) {",
                "  ctx->buf = size > 0 ? fdt_scratch : NULL;",
                "  ctx->size = size;",
                "  return size <= (int32_t)sizeof fdt_scratch;",
                "}",
                "",
                "/* TFLM's Prepare: scratch sizes; the index of the first operator they fail, or -1. */",
                "static int fdt_prepare(void) {",
                *self.prepare,
                "  return -1;",
                "}",
                "",
                "void fdt_model_invoke(void) {",
                "  fdt_failed_layer = fdt_prepare();",
                "  if (fdt_failed_layer >= 0) return;",
                *copy_in,
                *self.body,
                "  fdt_layer(-1);",
                *copy_out,
                "}",
                "",
            ]
        )
        return CmsisProgram(source, layers, outputs, macs)

    # -- helpers ---------------------------------------------------------
    def _int8(self, t: Tensor, what: str):
        if t.dtype != np.int8 or not t.quantized:
            raise FdtError(f"tensor '{t.name}' ({what}) is {np.dtype(t.dtype).name}: the CMSIS-NN program is int8 only")

    def activation(self, index) -> str:
        """The C array of an activation tensor, declared on first use."""
        if index not in self.names:
            t = self.t(index)
            self._int8(t, "activation")
            if t.data is not None:
                raise FdtError(f"tensor '{t.name}' is constant where the CMSIS-NN program needs an activation")
            self.names[index] = f"t{index}"
            self.decls.append(f"_Alignas(16) static int8_t t{index}[{int(np.prod(t.shape))}];")
        return self.names[index]

    def const(self, op: Operator, position: int, ctype: str) -> str:
        """The C array of a constant operand, or NULL for an omitted one."""
        if position >= len(op.inputs) or op.inputs[position] < 0:
            return "NULL"
        t = self.t(op.inputs[position])
        if t.data is None:
            raise FdtError(f"{op.opcode} {op.index}: non-constant weights are not supported by the CMSIS-NN program")
        if t.index not in self.constants:
            self.constants.add(t.index)
            self.decls.append(_c_array(ctype, f"t{t.index}", t.data))
        return f"t{t.index}"

    def io(self, op: Operator):
        return (
            self.t(op.inputs[0]),
            self.t(op.outputs[0]),
            self.activation(op.inputs[0]),
            self.activation(op.outputs[0]),
        )

    def run(self, op: Operator, call: str):
        """A kernel call that returns an arm_cmsis_nn_status."""
        self.body += [
            f"  if ({call} != ARM_CMSIS_NN_SUCCESS) {{",
            f"    fdt_failed_layer = {op.index};",
            "    return;",
            "  }",
        ]

    def needs(self, op: Operator, bound: int, size_call: str):
        self.scratch = max(self.scratch, bound)
        self.prepare.append(f"  if (!fdt_fits(&op{op.index}_ctx, {size_call})) return {op.index};")

    def per_channel(self, op: Operator, mults, shifts):
        p = f"op{op.index}"
        self.decls += [
            _c_array("int32_t", f"{p}_mult", mults),
            _c_array("int32_t", f"{p}_shift", shifts),
            f"static const cmsis_nn_per_channel_quant_params {p}_quant = "
            f"{{(int32_t *){p}_mult, (int32_t *){p}_shift}};",
        ]

    def _window(self, op: Operator, x_t: Tensor, w_t: Tensor, out: Tensor, kh: int, kw: int, oc: int):
        """What a conv and a depthwise conv share: weights and bias arrays,
        padding, activation range and per-channel requantization."""
        o = op.options
        self._symmetric(op, w_t)
        w, b = self.const(op, 1, "int8_t"), self.const(op, 2, "int32_t")
        pad_h = _padding(x_t.shape[1], kh, o.StrideH(), o.DilationHFactor(), o.Padding())
        pad_w = _padding(x_t.shape[2], kw, o.StrideW(), o.DilationWFactor(), o.Padding())
        lo, hi = _activation_range(o.FusedActivationFunction(), out, op.opcode)
        self.per_channel(op, *conv_multipliers(x_t.scale[0], w_t.scale, out.scale[0], oc))
        return w, b, pad_h, pad_w, lo, hi

    # -- operators: each emits its layer and returns its MACs -------------
    def conv(self, op: Operator) -> int:
        o, p = op.options, f"op{op.index}"
        x_t, out, x, y = self.io(op)
        w_t = self.t(op.inputs[1])
        oc, kh, kw, kc = w_t.shape
        n, ih, iw, ic = x_t.shape
        _, oh, ow, _ = out.shape
        w, b, pad_h, pad_w, lo, hi = self._window(op, x_t, w_t, out, kh, kw, oc)
        self.decls += [
            f"static const cmsis_nn_conv_params {p}_params = {{.input_offset = {-int(x_t.zero_point[0])}, "
            f".output_offset = {int(out.zero_point[0])}, .stride = {_tile(o.StrideW(), o.StrideH())}, "
            f".padding = {_tile(pad_w, pad_h)}, .dilation = {_tile(o.DilationWFactor(), o.DilationHFactor())}, "
            f".activation = {{{lo}, {hi}}}}};",
            _dims(f"{p}_input", n, ih, iw, ic),
            _dims(f"{p}_filter", oc, kh, kw, kc),
            _dims(f"{p}_bias", 1, 1, 1, oc),
            _dims(f"{p}_output", n, oh, ow, oc),
            f"static cmsis_nn_context {p}_ctx;",
        ]
        self.needs(
            op,
            _conv_scratch_bound(kh, kw, kc, pad_w),
            f"arm_convolve_wrapper_s8_get_buffer_size(&{p}_params, &{p}_input, &{p}_filter, &{p}_output)",
        )
        self.run(
            op,
            f"arm_convolve_wrapper_s8(&{p}_ctx, &{p}_params, &{p}_quant, &{p}_input, {x}, &{p}_filter, {w}, "
            f"&{p}_bias, {b}, &{p}_output, {y})",
        )
        return n * oh * ow * oc * kh * kw * kc

    def depthwise(self, op: Operator) -> int:
        o, p = op.options, f"op{op.index}"
        x_t, out, x, y = self.io(op)
        w_t = self.t(op.inputs[1])
        _, kh, kw, oc = w_t.shape
        n, ih, iw, ic = x_t.shape
        _, oh, ow, _ = out.shape
        w, b, pad_h, pad_w, lo, hi = self._window(op, x_t, w_t, out, kh, kw, oc)
        self.decls += [
            f"static const cmsis_nn_dw_conv_params {p}_params = {{.input_offset = {-int(x_t.zero_point[0])}, "
            f".output_offset = {int(out.zero_point[0])}, .ch_mult = {oc // ic}, "
            f".stride = {_tile(o.StrideW(), o.StrideH())}, .padding = {_tile(pad_w, pad_h)}, "
            f".dilation = {_tile(o.DilationWFactor(), o.DilationHFactor())}, .activation = {{{lo}, {hi}}}}};",
            _dims(f"{p}_input", n, ih, iw, ic),
            _dims(f"{p}_filter", 1, kh, kw, oc),
            _dims(f"{p}_bias", 1, 1, 1, oc),
            _dims(f"{p}_output", n, oh, ow, oc),
            f"static cmsis_nn_context {p}_ctx;",
        ]
        # One channel per input channel: DSP copies the window as int16, MVE a
        # block of channels. One input channel: MVE runs a convolution on the
        # transposed filter, which it keeps in the scratch too.
        bound = max(2 * ic, 4 * _CH_IN_BLOCK_MVE) * kh * kw if ic == oc else 0
        if ic == 1:
            bound = max(bound, _conv_scratch_bound(kh, kw, 1, pad_w) + kh * kw * oc)
        self.needs(
            op,
            bound,
            f"arm_depthwise_conv_wrapper_s8_get_buffer_size(&{p}_params, &{p}_input, &{p}_filter, &{p}_output)",
        )
        self.run(
            op,
            f"arm_depthwise_conv_wrapper_s8(&{p}_ctx, &{p}_params, &{p}_quant, &{p}_input, {x}, &{p}_filter, {w}, "
            f"&{p}_bias, {b}, &{p}_output, {y})",
        )
        return n * oh * ow * oc * kh * kw

    def fully_connected(self, op: Operator) -> int:
        """TFLM's int8 path for a 2-D output: arm_fully_connected_wrapper_s8,
        per-tensor or per-channel, with the kernel sums computed at Eval
        when the architecture asks for them (MVE)."""
        p = f"op{op.index}"
        x_t, out, x, y = self.io(op)
        w_t = self.t(op.inputs[1])
        if len(out.shape) != 2:
            raise FdtError(f"{op.opcode} {op.index}: outputs of rank {len(out.shape)} are not supported, only 2")
        units, depth = w_t.shape
        batches = int(np.prod(x_t.shape)) // depth
        w, b = self.const(op, 1, "int8_t"), self.const(op, 2, "int32_t")
        lo, hi = _activation_range(op.options.FusedActivationFunction(), out, op.opcode)
        if w_t.scale.size > 1:
            mults, shifts = conv_multipliers(x_t.scale[0], w_t.scale, out.scale[0], units)
        else:
            m, s = fully_connected_multiplier(x_t.scale[0], w_t.scale[0], out.scale[0])
            mults, shifts = [m], [s]
        input_offset, filter_offset = -int(x_t.zero_point[0]), -int(w_t.zero_point[0])
        self.decls += [
            _c_array("int32_t", f"{p}_mult", mults),
            _c_array("int32_t", f"{p}_shift", shifts),
            f"static const cmsis_nn_quant_params {p}_quant = {{(int32_t *){p}_mult, (int32_t *){p}_shift, "
            f"{int(w_t.scale.size > 1)}}};",
            f"static const cmsis_nn_fc_params {p}_params = {{.input_offset = {input_offset}, "
            f".filter_offset = {filter_offset}, .output_offset = {int(out.zero_point[0])}, "
            f".activation = {{{lo}, {hi}}}}};",
            _dims(f"{p}_input", batches, 1, 1, depth),
            _dims(f"{p}_filter", depth, 1, 1, units),
            _dims(f"{p}_bias", 1, 1, 1, units),
            _dims(f"{p}_output", batches, 1, 1, units),
            f"static cmsis_nn_context {p}_ctx;",
        ]
        self.needs(op, 4 * units, f"arm_fully_connected_s8_get_buffer_size(&{p}_filter)")
        self.body += [
            f"  if ({p}_ctx.buf != NULL)",
            f"    arm_vector_sum_s8({p}_ctx.buf, {depth}, {units}, {w}, {input_offset}, {filter_offset}, {b});",
        ]
        self.run(
            op,
            f"arm_fully_connected_wrapper_s8(&{p}_ctx, &{p}_params, &{p}_quant, &{p}_input, {x}, &{p}_filter, {w}, "
            f"&{p}_bias, {b}, &{p}_output, {y})",
        )
        return batches * units * depth

    def pool(self, op: Operator) -> int:
        o, p = op.options, f"op{op.index}"
        x_t, out, x, y = self.io(op)
        n, ih, iw, c = x_t.shape
        _, oh, ow, _ = out.shape
        kh, kw = o.FilterHeight(), o.FilterWidth()
        pad_h = _padding(ih, kh, o.StrideH(), 1, o.Padding())
        pad_w = _padding(iw, kw, o.StrideW(), 1, o.Padding())
        lo, hi = _activation_range(o.FusedActivationFunction(), out, op.opcode)
        self.decls += [
            f"static const cmsis_nn_pool_params {p}_params = {{.stride = {_tile(o.StrideW(), o.StrideH())}, "
            f".padding = {_tile(pad_w, pad_h)}, .activation = {{{lo}, {hi}}}}};",
            _dims(f"{p}_input", n, ih, iw, c),
            _dims(f"{p}_filter", 1, kh, kw, 1),
            _dims(f"{p}_output", n, oh, ow, c),
            f"static cmsis_nn_context {p}_ctx;",
        ]
        if op.opcode == "AVERAGE_POOL_2D":
            self.needs(op, 4 * c, f"arm_avgpool_s8_get_buffer_size({ow}, {c})")
            kernel = "arm_avgpool_s8"
        else:
            kernel = "arm_max_pool_s8"
        self.run(op, f"{kernel}(&{p}_ctx, &{p}_params, &{p}_input, {x}, &{p}_filter, &{p}_output, {y})")
        return 0

    def softmax(self, op: Operator) -> int:
        x_t, out, x, y = self.io(op)
        if int(out.zero_point[0]) != -128 or out.scale[0] != np.float32(1 / 256):
            raise FdtError(f"SOFTMAX {op.index}: int8 softmax needs an output with scale 1/256 and zero point -128")
        mult, shift, diff_min = softmax_scaling(op.options.Beta(), x_t.scale[0])
        depth = x_t.shape[-1]
        rows = int(np.prod(x_t.shape)) // depth
        self.body.append(f"  arm_softmax_s8({x}, {rows}, {depth}, {mult}, {shift}, {diff_min}, {y});")
        return 0

    def add(self, op: Operator) -> int:
        """TFLM's ADD Prepare: inputs shifted left by 20 bits and scaled by
        their scale / twice the larger one; the sum by that over 2^20 times
        the output scale."""
        a_t, b_t, out = self.t(op.inputs[0]), self.t(op.inputs[1]), self.t(op.outputs[0])
        if a_t.shape != b_t.shape:
            raise FdtError(f"ADD {op.index}: broadcasting is not supported by the CMSIS-NN program")
        a, b, y = self.activation(op.inputs[0]), self.activation(op.inputs[1]), self.activation(op.outputs[0])
        twice_max = 2 * max(float(a_t.scale[0]), float(b_t.scale[0]))
        m1, s1 = quantize_multiplier(float(a_t.scale[0]) / twice_max)
        m2, s2 = quantize_multiplier(float(b_t.scale[0]) / twice_max)
        mo, so = quantize_multiplier(twice_max / ((1 << 20) * float(out.scale[0])))
        lo, hi = _activation_range(op.options.FusedActivationFunction(), out, op.opcode)
        self.run(
            op,
            f"arm_elementwise_add_s8({a}, {b}, {-int(a_t.zero_point[0])}, {m1}, {s1}, {-int(b_t.zero_point[0])}, "
            f"{m2}, {s2}, 20, {y}, {int(out.zero_point[0])}, {mo}, {so}, {lo}, {hi}, {int(np.prod(out.shape))})",
        )
        return 0

    def alias(self, op: Operator) -> int:
        """RESHAPE and SQUEEZE keep the bytes: the output names the input's array."""
        index = op.outputs[0]
        if index in self.g.inputs or index in self.names:
            raise FdtError(f"{op.opcode} {op.index}: its output is already a tensor of its own")
        self.names[index] = self.activation(op.inputs[0])
        self.body.append(f"  /* {self.names[index]} is also tensor {index} */")
        return 0

    def _symmetric(self, op: Operator, w_t: Tensor):
        if np.any(w_t.zero_point != 0):
            raise FdtError(f"{op.opcode} {op.index}: weights with a zero point are not supported, only symmetric")


_OPERATORS = {
    "CONV_2D": _Program.conv,
    "DEPTHWISE_CONV_2D": _Program.depthwise,
    "FULLY_CONNECTED": _Program.fully_connected,
    "AVERAGE_POOL_2D": _Program.pool,
    "MAX_POOL_2D": _Program.pool,
    "SOFTMAX": _Program.softmax,
    "ADD": _Program.add,
    "RESHAPE": _Program.alias,
    "SQUEEZE": _Program.alias,
}
