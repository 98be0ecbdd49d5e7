"""Each supported TFLite operator, compiled to C and checked against TFLM.

Every test builds a model of one operator (or two, where the operator needs
a particular producer), compiles it with `fdt-opt-mlir --emit c`, runs the C
on random inputs and compares with the TFLM reference interpreter: int8 and
other integer outputs bit for bit, float32 outputs within float rounding.
Shapes and quantization parameters are drawn from seeded generators, so
each case is fixed but not hand-picked.
"""

import json

import numpy as np
import pytest
from test_tflite_builder import single_op  # ("input", shape, dtype, quant) / ("const", array, quant) specs
from tiling_support import assert_shadow_checked

from fdt_mlir.api import Options, compile
from fdt_mlir.cli import fdt_opt_mlir as driver
from fdt_mlir.evaluation.tflm_head import tflm_head_bytes
from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.importers.tflite_quant import quantize_multiplier
from fdt_mlir.testing.cmodel import CModel
from fdt_mlir.testing.recurrent_models import sequence_lstm_int8_layer, sequence_lstm_layer, svdf_layer
from fdt_mlir.testing.tflm import random_inputs, run_tflm, run_tflm_invokes

INPUT_SETS = 20


def compile_and_compare(model: bytes, tmp_path, inputs=None):
    """Compiles `model`, runs it and TFLM on `inputs` (default: 20 random
    sets; each a first invoke: TFLM's interpreter is new, the C's state
    reset) and asserts equal outputs. Returns TFLM's outputs, for checks
    that the comparison is not vacuous. The shadow-checked C runs the
    first set too."""
    cmodel = compile_model(model, tmp_path)
    seen = []
    for n, arrays in enumerate(inputs if inputs is not None else random_inputs(model, INPUT_SETS, seed=0)):
        if n == 0:
            assert_shadow_checked(tmp_path / "out", "op", [arrays])
        cmodel.reset()
        seen += assert_same_outputs(run_tflm(model, arrays), cmodel.run(arrays))
    arena = json.loads((tmp_path / "out" / "op.report.json").read_text())["arena_bytes"]
    head = tflm_head_bytes(model)
    assert arena <= head, f"arena {arena} B > TFLM head {head} B"
    return seen


def compile_model(model: bytes, tmp_path) -> CModel:
    """`model` compiled to C in tmp_path/out (and M.shadow.c) and loaded."""
    path = tmp_path / "op.tflite"
    path.write_bytes(model)
    outdir = tmp_path / "out"
    assert driver.main([str(path), "--emit", "c", "-o", str(outdir), "--shadow-check"]) == 0
    return CModel(outdir, "op")


def assert_same_outputs(wants, gots):
    """int outputs bit for bit, float32 within 1e-5 of the output's range;
    returns `wants`."""
    for want, got in zip(wants, gots):
        got = got.reshape(want.shape)
        if want.dtype == np.float32:
            atol = 1e-5 * max(float(np.ptp(want)), 1e-3)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)
        else:
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    return wants


def compare_invokes(model: bytes, tmp_path, input_sets):
    """Invokes one TFLM interpreter and the compiled C on each input set in
    turn, so that the recurrent state carries over, and asserts equal
    outputs at every invoke; then resets the C and asserts that its next
    invoke gives the first invoke's outputs, and runs the shadow-checked C
    on every set. Returns TFLM's outputs."""
    cmodel = compile_model(model, tmp_path)
    assert_shadow_checked(tmp_path / "out", "op", input_sets)
    wants = run_tflm_invokes(model, input_sets)
    gots = [cmodel.run(arrays) for arrays in input_sets]
    seen = []
    for want, got in zip(wants, gots):
        seen += assert_same_outputs(want, got)
    cmodel.reset()
    for first, again in zip(gots[0], cmodel.run(input_sets[0])):
        np.testing.assert_array_equal(again, first)
    return seen


def quant(rng, lo=0.005, hi=0.1, dtype=np.int8):
    """Random per-tensor quantization: a scale in [lo, hi), any zero point."""
    info = np.iinfo(dtype)
    return {"scale": float(rng.uniform(lo, hi)), "zero_point": int(rng.integers(info.min, info.max + 1))}


def all_int8_values(shape):
    """One input set holding every int8 value (for table-driven kernels)."""
    return [[np.resize(np.arange(-128, 128, dtype=np.int8), shape)]]


def distinct(outputs) -> int:
    return len(np.unique(np.concatenate([o.reshape(-1) for o in outputs])))


# --- SOFTMAX ----------------------------------------------------------------

SOFTMAX_INT8 = [((1, 12), 1.0), ((3, 10), 1.0), ((2, 3, 40), 0.5), ((1, 2), 2.0), ((4, 300), 1.0)]


@pytest.mark.parametrize("case", range(len(SOFTMAX_INT8)))
def test_softmax_int8(tmp_path, case):
    shape, beta = SOFTMAX_INT8[case]
    rng = np.random.default_rng(100 + case)
    out_q = {"scale": 1 / 256, "zero_point": -128}
    model = single_op("SOFTMAX", [("input", shape, np.int8, quant(rng, 0.01, 0.3))], (shape, np.int8, out_q), beta=beta)
    assert distinct(compile_and_compare(model, tmp_path)) > min(10, 4 * shape[-1])


@pytest.mark.parametrize("shape,beta", [((1, 10), 1.0), ((2, 3, 7), 0.7)])
def test_softmax_float(tmp_path, shape, beta):
    model = single_op("SOFTMAX", [("input", shape, np.float32, {})], (shape, np.float32, {}), beta=beta)
    compile_and_compare(model, tmp_path)


# --- ADD, SUB, MUL ----------------------------------------------------------


def broadcast_shapes(rng):
    """Two shapes of rank 1 to 4 that broadcast: some dims of one are 1, and
    the second may drop leading dims; returns them and the output shape."""
    rank = int(rng.integers(1, 5))
    shape = [int(d) for d in rng.integers(2, 6, rank)]
    first = [1 if rng.random() < 0.3 else d for d in shape]
    second = [1 if rng.random() < 0.3 else d for d in shape][int(rng.integers(0, rank)) :]
    return tuple(first), tuple(second), tuple(np.broadcast_shapes(first, second))


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("case", range(4))
def test_binary_int8(tmp_path, opcode, case):
    rng = np.random.default_rng(200 + case)
    shape1, shape2, out_shape = broadcast_shapes(rng)
    activation = ["NONE", "RELU", "RELU6", "NONE"][case]
    q1, q2 = quant(rng), quant(rng)
    out_scale = q1["scale"] * q2["scale"] * 40 if opcode == "MUL" else max(q1["scale"], q2["scale"]) * 1.5
    out_q = {"scale": out_scale, "zero_point": int(rng.integers(-20, 20))}
    second = ("input", shape2, np.int8, q2)
    if case == 3:  # a constant operand, as a bias or a scale
        second = ("const", rng.integers(-128, 128, shape2, dtype=np.int8), q2)
    model = single_op(
        opcode, [("input", shape1, np.int8, q1), second], (out_shape, np.int8, out_q), activation=activation
    )
    assert distinct(compile_and_compare(model, tmp_path)) > 8


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("case", range(3))
def test_binary_float(tmp_path, opcode, case):
    rng = np.random.default_rng(250 + case)
    shape1, shape2, out_shape = broadcast_shapes(rng)
    model = single_op(
        opcode,
        [("input", shape1, np.float32, {}), ("input", shape2, np.float32, {})],
        (out_shape, np.float32, {}),
        activation=["NONE", "RELU", "RELU6"][case],
    )
    compile_and_compare(model, tmp_path)


# --- MAXIMUM, MINIMUM -------------------------------------------------------


@pytest.mark.parametrize("opcode", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_maximum_minimum(tmp_path, opcode, dtype):
    rng = np.random.default_rng(300)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        opcode,
        [("input", (2, 1, 5), dtype, q), ("input", (3, 5), dtype, q)],
        ((2, 3, 5), dtype, q),
    )
    compile_and_compare(model, tmp_path)


# --- RELU, RELU6, LOGISTIC, TANH --------------------------------------------


@pytest.mark.parametrize("opcode", ["RELU", "RELU6"])
@pytest.mark.parametrize("seed", [0, 1])
def test_relu_int8(tmp_path, opcode, seed):
    rng = np.random.default_rng(400 + seed)
    q_in = quant(rng, 0.01, 0.05)
    q_out = q_in if opcode == "RELU6" else quant(rng, 0.01, 0.05)  # TFLM's RELU6 keeps the input's
    model = single_op(opcode, [("input", (4, 64), np.int8, q_in)], ((4, 64), np.int8, q_out))
    compile_and_compare(model, tmp_path, all_int8_values((4, 64)) + random_inputs(model, 5, seed=1))


@pytest.mark.parametrize("opcode", ["RELU", "RELU6", "LOGISTIC", "TANH"])
def test_activation_float(tmp_path, opcode):
    shape = (3, 17)
    model = single_op(opcode, [("input", shape, np.float32, {})], (shape, np.float32, {}))
    scaled = [[8 * x for x in arrays] for arrays in random_inputs(model, INPUT_SETS, seed=0)]
    compile_and_compare(model, tmp_path, scaled)


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("scale", [0.002, 0.02, 0.06, 0.3])
def test_logistic_tanh_int8(tmp_path, opcode, scale):
    rng = np.random.default_rng(int(scale * 1000))
    q_in = {"scale": scale, "zero_point": int(rng.integers(-100, 100))}
    q_out = {"scale": 1 / 256, "zero_point": -128} if opcode == "LOGISTIC" else {"scale": 1 / 128, "zero_point": 0}
    model = single_op(opcode, [("input", (2, 128), np.int8, q_in)], ((2, 128), np.int8, q_out))
    compile_and_compare(model, tmp_path, all_int8_values((2, 128)))


# --- ABS, NEG, SQUARE, EXP, LOG, SQRT, RSQRT, FLOOR, LEAKY_RELU, HARD_SWISH ---

# Inputs in each operator's domain; TFLM has no int8 kernel for most of them.
UNARY_DOMAINS = {
    "ABS": (-20, 20),
    "NEG": (-20, 20),
    "SQUARE": (-20, 20),
    "EXP": (-20, 20),
    "LOG": (1e-3, 100),
    "SQRT": (0, 100),
    "RSQRT": (1e-3, 100),
    "FLOOR": (-20, 20),
}


@pytest.mark.parametrize("opcode", sorted(UNARY_DOMAINS))
def test_float_unary(tmp_path, opcode):
    low, high = UNARY_DOMAINS[opcode]
    model = single_op(opcode, [("input", (4, 25), np.float32, {})], ((4, 25), np.float32, {}))
    rng = np.random.default_rng(1200)
    inputs = [[rng.uniform(low, high, (4, 25)).astype(np.float32)] for _ in range(5)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 30  # FLOOR: 40 integers


def test_float_unary_rejects_int8(tmp_path, capsys):
    q = {"scale": 0.05, "zero_point": 0}
    path = tmp_path / "op.tflite"
    path.write_bytes(single_op("EXP", [("input", (4, 25), np.int8, q)], ((4, 25), np.int8, q)))
    assert driver.main([str(path), "--emit", "c", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.strip() == "fdt-opt-mlir: error: EXP 0: only float32 is supported"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.5])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_leaky_relu(tmp_path, dtype, alpha):
    quantized = ({"scale": 0.03, "zero_point": -10}, {"scale": 0.04, "zero_point": 3})
    q_in, q_out = quantized if dtype == np.int8 else ({}, {})
    model = single_op("LEAKY_RELU", [("input", (4, 64), dtype, q_in)], ((4, 64), dtype, q_out), alpha=alpha)
    inputs = all_int8_values((4, 64)) if dtype == np.int8 else []
    assert distinct(compile_and_compare(model, tmp_path, inputs + random_inputs(model, 5, seed=1))) > 50


@pytest.mark.parametrize("scales", [(0.02, 0.02), (0.05, 0.03), (0.3, 0.1), (0.002, 0.004)])
def test_hard_swish_int8(tmp_path, scales):
    """Every int8 input, on scales that take the relu-ish multiplier's
    left-shift and right-shift branches."""
    q_in = {"scale": scales[0], "zero_point": 5}
    q_out = {"scale": scales[1], "zero_point": -20}
    model = single_op("HARD_SWISH", [("input", (2, 128), np.int8, q_in)], ((2, 128), np.int8, q_out))
    assert distinct(compile_and_compare(model, tmp_path, all_int8_values((2, 128)))) > 20


def test_hard_swish_float(tmp_path):
    model = single_op("HARD_SWISH", [("input", (4, 25), np.float32, {})], ((4, 25), np.float32, {}))
    rng = np.random.default_rng(1300)
    inputs = [[rng.uniform(-8, 8, (4, 25)).astype(np.float32)] for _ in range(5)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 50


@pytest.mark.parametrize("q_out", [{"scale": 0.03, "zero_point": -7}, {"scale": 0.05, "zero_point": -100}])
def test_abs_int8(tmp_path, q_out):
    """Every int8 input; the second output scale needs no requantization."""
    q_in = {"scale": 0.05, "zero_point": 9}
    model = single_op("ABS", [("input", (2, 128), np.int8, q_in)], ((2, 128), np.int8, q_out))
    assert distinct(compile_and_compare(model, tmp_path, all_int8_values((2, 128)))) > 60


@pytest.mark.parametrize("scales", [(0.05, 0.02), (0.002, 0.3), (0.8, 0.004)])
def test_rsqrt_int8(tmp_path, scales):
    """Every int8 input at or above the zero point (TFLM fails below it),
    on scales whose inverse-sqrt multipliers shift both ways."""
    q_in = {"scale": scales[0], "zero_point": -100}
    q_out = {"scale": scales[1], "zero_point": -128}
    model = single_op("RSQRT", [("input", (2, 114), np.int8, q_in)], ((2, 114), np.int8, q_out))
    inputs = [[np.arange(-100, 128, dtype=np.int8).reshape(2, 114)]]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 20


# --- CAST, GATHER -----------------------------------------------------------


def test_cast_float_to_int32_truncates(tmp_path):
    """MUL spreads [-1, 1) over [-50, 50) so that CAST sees fractions of
    both signs; TFLM truncates them toward zero."""
    b = ModelBuilder("op")
    x = b.input((4, 16), np.float32)
    scaled = b.tensor((4, 16), np.float32)
    y = b.tensor((4, 16), np.int32)
    b.op("MUL", [x, b.const(np.array([50.0], np.float32))], [scaled])
    b.op("CAST", [scaled], [y])
    b.output(y)
    compile_and_compare(b.finish(), tmp_path)


@pytest.mark.parametrize("src,dst", [(np.int8, np.int32), (np.int32, np.float32), (np.int8, np.float32)])
def test_cast(tmp_path, src, dst):
    model = single_op("CAST", [("input", (3, 7), src, {})], ((3, 7), dst, {}))
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("dtype", [np.float32, np.int8])
@pytest.mark.parametrize("axis,params_shape,indices_shape", [(0, (120, 6), (1, 9)), (1, (3, 100, 4), (5,))])
def test_gather(tmp_path, dtype, axis, params_shape, indices_shape):
    """Random indices are in [0, 100): every table has at least 100 rows."""
    rng = np.random.default_rng(500 + axis)
    if dtype == np.int8:
        table, q = rng.integers(-128, 128, params_shape, dtype=np.int8), quant(rng)
    else:
        table, q = rng.normal(size=params_shape).astype(np.float32), {}
    out_shape = params_shape[:axis] + indices_shape + params_shape[axis + 1 :]
    model = single_op(
        "GATHER",
        [("const", table, q), ("input", indices_shape, np.int32, {})],
        (out_shape, dtype, q),
        axis=axis,
    )
    compile_and_compare(model, tmp_path)


def test_gather_from_activation(tmp_path):
    model = single_op(
        "GATHER",
        [("input", (5, 8), np.float32, {}), ("const", np.array([4, 0, 2, 2], np.int32), {})],
        ((5, 4), np.float32, {}),
        axis=1,
    )
    compile_and_compare(model, tmp_path)


# --- MEAN -------------------------------------------------------------------

MEAN_CASES = [
    ((1, 5, 6, 8), [1, 2], True),
    ((1, 5, 6, 8), [1, 2], False),
    ((2, 7, 9), [-1], False),
    ((2, 7, 9), [0, 2], True),
]


@pytest.mark.parametrize("case", range(len(MEAN_CASES)))
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("opcode", ["MEAN", "SUM"])
def test_mean(tmp_path, case, dtype, opcode):
    shape, axes, keep = MEAN_CASES[case]
    rng = np.random.default_rng(600 + case)
    resolved = {a % len(shape) for a in axes}
    out_shape = tuple(1 if i in resolved else d for i, d in enumerate(shape) if keep or i not in resolved)
    q_in = quant(rng, 0.02, 0.1) if dtype == np.int8 else {}
    q_out = (q_in if case == 1 else quant(rng, 0.005, 0.02)) if dtype == np.int8 else {}
    if opcode == "SUM" and dtype == np.int8:  # a scale for sums of `count` values
        count = np.prod([shape[a] for a in resolved])
        q_out = {**q_out, "scale": q_in["scale"] * 2 * float(np.sqrt(count))}
    model = single_op(
        opcode,
        [("input", shape, dtype, q_in), ("const", np.array(axes, np.int32), {})],
        (out_shape, dtype, q_out),
        keep_dims=keep,
    )
    assert distinct(compile_and_compare(model, tmp_path)) > 4


# --- PAD, CONCATENATION, RESHAPE, SQUEEZE -----------------------------------


PAD_CASES = [((4, 5, 3), [[1, 2], [0, 3], [2, 0]]), ((1, 4, 5, 3), [[0, 0], [1, 2], [0, 3], [2, 0]])]


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("shape,pads", PAD_CASES)
def test_pad(tmp_path, dtype, shape, pads):
    rng = np.random.default_rng(700)
    q = quant(rng) if dtype == np.int8 else {}
    pads = np.array(pads, np.int32)
    out_shape = tuple(d + p.sum() for d, p in zip(shape, pads))
    model = single_op("PAD", [("input", shape, dtype, q), ("const", pads, {})], (out_shape, dtype, q))
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenation(tmp_path, dtype, axis):
    rng = np.random.default_rng(800)
    q = quant(rng) if dtype == np.int8 else {}
    shapes = [(2, 3, 4), (2, 3, 4), (2, 3, 4)]
    sizes = [1, 2, 3]
    shapes = [tuple(n if i == axis % 3 else d for i, d in enumerate(s)) for s, n in zip(shapes, sizes)]
    out_shape = tuple(6 if i == axis % 3 else d for i, d in enumerate(shapes[0]))
    inputs = [("input", shapes[0], dtype, q), ("input", shapes[1], dtype, q)]
    data = rng.integers(-128, 128, shapes[2]).astype(dtype)
    inputs.append(("const", data, q))
    model = single_op("CONCATENATION", inputs, (out_shape, dtype, q), axis=axis)
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("opcode,options", [("RESHAPE", {"new_shape": [6, 10]}), ("SQUEEZE", {"squeeze_dims": [0, 2]})])
def test_reshape_squeeze(tmp_path, opcode, options):
    """After a RELU: a model whose output is its input is not compiled."""
    q = {"scale": 0.1, "zero_point": 3}
    out_shape = (6, 10) if opcode == "RESHAPE" else (3, 20)
    b = ModelBuilder("op")
    x = b.input((1, 3, 1, 20), np.int8, **q)
    r = b.tensor((1, 3, 1, 20), np.int8, **q)
    y = b.tensor(out_shape, np.int8, **q)
    b.op("RELU", [x], [r])
    b.op(opcode, [r], [y], **options)
    b.output(y)
    compile_and_compare(b.finish(), tmp_path)


# --- EXPAND_DIMS, TRANSPOSE, SLICE, SPLIT, SPLIT_V, UNPACK, PACK -------------


def _moved(dtype, opcode, extra_inputs, out_shapes, **options) -> bytes:
    """x (2x3x4) -> RELU -> `opcode`: data movement of a computed tensor,
    each of its results an output of the model. `extra_inputs` are constant
    arrays, put before x (`SPLIT` takes its axis first) when `opcode` is
    SPLIT, after it otherwise."""
    q = {"scale": 0.05, "zero_point": -2} if dtype == np.int8 else {}
    b = ModelBuilder("op")
    x = b.input((2, 3, 4), dtype, **q)
    r = b.tensor((2, 3, 4), dtype, **q)
    b.op("RELU", [x], [r])
    consts = [b.const(np.asarray(a, np.int32)) for a in extra_inputs]
    outs = [b.tensor(shape, dtype, **q) for shape in out_shapes]
    b.op(opcode, consts + [r] if opcode == "SPLIT" else [r, *consts], outs, **options)
    for y in outs:
        b.output(y)
    return b.finish()


MOVEMENT_CASES = {
    "EXPAND_DIMS": (["EXPAND_DIMS", [[1]], [(2, 1, 3, 4)]], {}),
    "TRANSPOSE": (["TRANSPOSE", [[2, 0, 1]], [(4, 2, 3)]], {}),
    "SLICE": (["SLICE", [[0, 1, 1], [-1, 2, 2]], [(2, 2, 2)]], {}),
    "SPLIT": (["SPLIT", [[2]], [(2, 3, 2), (2, 3, 2)]], {"num_splits": 2}),
    "SPLIT_V": (["SPLIT_V", [[1, -1], [1]], [(2, 1, 4), (2, 2, 4)]], {"num_splits": 2}),
    "UNPACK": (["UNPACK", [], [(2, 4)] * 3], {"num": 3, "axis": 1}),
}


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("name", sorted(MOVEMENT_CASES))
def test_data_movement(tmp_path, name, dtype):
    args, options = MOVEMENT_CASES[name]
    compile_and_compare(_moved(dtype, *args, **options), tmp_path)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_pack(tmp_path, dtype, axis):
    """Three computed 2x3 tensors stacked along a new axis."""
    q = {"scale": 0.05, "zero_point": -2} if dtype == np.int8 else {}
    b = ModelBuilder("op")
    xs = [b.input((2, 3), dtype, **q) for _ in range(3)]
    rs = [b.tensor((2, 3), dtype, **q) for _ in range(3)]
    for x, r in zip(xs, rs):
        b.op("RELU", [x], [r])
    out_shape = [2, 3]
    out_shape.insert(axis % 3, 3)
    y = b.tensor(tuple(out_shape), dtype, **q)
    b.op("PACK", rs, [y], values_count=3, axis=axis)
    b.output(y)
    compile_and_compare(b.finish(), tmp_path)


# --- QUANTIZE, DEQUANTIZE, uint8 --------------------------------------------

# TFLM quantizes float32 to int8 and int16, not to uint8.
QUANTIZE_CASES = [
    (np.float32, np.int8),
    (np.int8, np.int8),
    (np.uint8, np.int8),
    (np.int8, np.uint8),
]


@pytest.mark.parametrize("case", range(len(QUANTIZE_CASES)))
def test_quantize(tmp_path, case):
    src, dst = QUANTIZE_CASES[case]
    rng = np.random.default_rng(900 + case)
    q_in = quant(rng, 0.01, 0.05, src) if src != np.float32 else {}
    q_out = quant(rng, 0.003, 0.02, dst)
    model = single_op("QUANTIZE", [("input", (4, 50), src, q_in)], ((4, 50), dst, q_out))
    inputs = random_inputs(model, INPUT_SETS, seed=0)
    if src == np.float32:
        # Values on the rounding boundaries (x / scale = n + 1/2), where
        # multiplying by 1 / scale instead of dividing would go wrong.
        halves = (rng.integers(-200, 200, (4, 50)) + 0.5) * np.float32(q_out["scale"])
        inputs.append([halves.astype(np.float32)])
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 50


def test_float_input_quantize_needs_no_more_ram_than_tflm(tmp_path):
    """A float image quantized to int8 (a float-input model's first
    operator): one float32 division per element, no whole int32 copies of
    the input, so the arena is the input and the output, as TFLM's."""
    model = single_op(
        "QUANTIZE",
        [("input", (1, 224, 224, 3), np.float32, {})],
        ((1, 224, 224, 3), np.int8, {"scale": 0.0078125, "zero_point": -1}),
    )
    path = tmp_path / "op.tflite"
    path.write_bytes(model)
    assert driver.main([str(path), "--emit", "c", "--no-overlap", "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "op.report.json").read_text())
    assert report["arena_bytes"] == 224 * 224 * 3 * (4 + 1)
    assert report["arena_bytes"] <= tflm_head_bytes(model)
    # By default the int8 image is written inside the float one: its byte i
    # lies in float element i // 4 <= i, already read when it is written.
    assert driver.main([str(path), "--emit", "c", "-o", str(tmp_path / "overlap")]) == 0
    report = json.loads((tmp_path / "overlap" / "op.report.json").read_text())
    assert report["arena_bytes"] == 224 * 224 * 3 * 4


@pytest.mark.parametrize("src", [np.int8, np.uint8, np.int16])
def test_dequantize(tmp_path, src):
    rng = np.random.default_rng(1000)
    q = quant(rng, dtype=src)
    if src == np.int16:
        q["zero_point"] = 0  # TFLite's int16 quantization is symmetric
    model = single_op("DEQUANTIZE", [("input", (3, 40), src, q)], ((3, 40), np.float32, {}))
    compile_and_compare(model, tmp_path)


def test_uint8_model(tmp_path):
    """uint8 in and out around an int8 ADD, as TFLite's converter writes a
    model with uint8 inference_input_type/output_type."""
    rng = np.random.default_rng(1100)
    b = ModelBuilder("op")
    x = b.input((1, 6, 6, 4), np.uint8, **quant(rng, dtype=np.uint8))
    q8 = quant(rng, 0.02, 0.05)
    xq = b.tensor((1, 6, 6, 4), np.int8, **q8)
    s = b.tensor((1, 6, 6, 4), np.int8, **quant(rng, 0.05, 0.1))
    y = b.tensor((1, 6, 6, 4), np.uint8, **quant(rng, 0.05, 0.1, np.uint8))
    b.op("QUANTIZE", [x], [xq])
    b.op("ADD", [xq, b.const(rng.integers(-128, 128, (4,), dtype=np.int8), **q8)], [s])
    b.op("QUANTIZE", [s], [y])
    b.output(y)
    compile_and_compare(b.finish(), tmp_path)
    header = (tmp_path / "out" / "op.h").read_text()
    assert "uint8_t *op_input0(void);" in header and "uint8_t *op_output0(void);" in header
    assert "void op_run(const uint8_t *input0, uint8_t *output0);" in header


# --- CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling -----------------


def window_output(size, kernel, stride, dilation, padding):
    if padding == "SAME":
        return -(-size // stride)
    return -(-(size - (kernel - 1) * dilation) // stride)


def weights_and_scales(rng, shape, channel_axis, per_channel, quantized):
    """Random weights; int8 ones with per-channel (or one) symmetric scales."""
    if not quantized:
        return rng.normal(0, 0.3, shape).astype(np.float32), {}
    channels = shape[channel_axis]
    scales = rng.uniform(0.002, 0.02, channels if per_channel else 1)
    q = {"scale": scales, "zero_point": [0] * len(scales), "quantized_dimension": channel_axis}
    return rng.integers(-127, 128, shape, dtype=np.int8), q


def output_quant(rng, x_q, w_q, fan_in):
    """An output scale that fits the accumulator's spread: int8 inputs
    minus their zero point and weights have a standard deviation near 74."""
    spread = x_q["scale"] * float(np.mean(w_q["scale"])) * 74 * 74 * np.sqrt(fan_in)
    return {"scale": 3 * spread / 127, "zero_point": int(rng.integers(-10, 10))}


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("case", range(3))
def test_conv(tmp_path, depthwise, dtype, case):
    rng = np.random.default_rng(1200 + case)
    h, w = (int(d) for d in rng.integers(5, 12, 2))
    cin, multiplier = int(rng.integers(1, 5)), int(rng.integers(1, 3))
    cout = cin * multiplier if depthwise else int(rng.integers(1, 6))
    kh, kw = (int(d) for d in rng.integers(1, 4, 2))
    stride = tuple(int(d) for d in rng.integers(1, 3, 2))
    dilation = (2, 1) if case == 2 else (1, 1)
    padding = "SAME" if case != 1 else "VALID"
    quantized = dtype == np.int8
    x_q = quant(rng, 0.01, 0.05) if quantized else {}
    if depthwise:
        weights, w_q = weights_and_scales(rng, (1, kh, kw, cout), 3, case != 1, quantized)
        options = {"depth_multiplier": multiplier}
    else:
        weights, w_q = weights_and_scales(rng, (cout, kh, kw, cin), 0, case != 1, quantized)
        options = {}
    fan_in = kh * kw * (1 if depthwise else cin)
    if quantized:
        bias = ("const", rng.integers(-2000, 2000, cout, dtype=np.int32), {"scale": x_q["scale"] * w_q["scale"]})
        out_q = output_quant(rng, x_q, w_q, fan_in)
    else:
        bias, out_q = ("const", rng.normal(0, 0.1, cout).astype(np.float32), {}), {}
    out_shape = (
        1,
        window_output(h, kh, stride[0], dilation[0], padding),
        window_output(w, kw, stride[1], dilation[1], padding),
        cout,
    )
    model = single_op(
        "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D",
        [("input", (1, h, w, cin), dtype, x_q), ("const", weights, w_q), bias],
        (out_shape, dtype, out_q),
        padding=padding,
        stride=stride,
        dilation=dilation,
        activation=["RELU", "NONE", "RELU6"][case],
        **options,
    )
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("case", range(3))
def test_fully_connected(tmp_path, dtype, case):
    rng = np.random.default_rng(1300 + case)
    rows, depth, units = int(rng.integers(1, 4)), int(rng.integers(4, 40)), int(rng.integers(2, 20))
    quantized = dtype == np.int8
    x_q = quant(rng, 0.01, 0.05) if quantized else {}
    weights, w_q = weights_and_scales(rng, (units, depth), 0, case == 0, quantized)
    inputs = [("input", (rows, depth), dtype, x_q), ("const", weights, w_q)]
    if case != 2:  # the bias is optional
        if quantized:
            bias = rng.integers(-2000, 2000, units, dtype=np.int32)
            inputs.append(("const", bias, {"scale": x_q["scale"] * w_q["scale"]}))
        else:
            inputs.append(("const", rng.normal(0, 0.1, units).astype(np.float32), {}))
    out_q = output_quant(rng, x_q, w_q, depth) if quantized else {}
    activation = ["NONE", "RELU", "NONE"][case]
    model = single_op("FULLY_CONNECTED", inputs, ((rows, units), dtype, out_q), activation=activation)
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("opcode", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("case", range(2))
def test_pool(tmp_path, opcode, dtype, case):
    """int8 average pooling is supported only over the whole feature map."""
    rng = np.random.default_rng(1400 + case)
    h, w, c = (int(d) for d in rng.integers(3, 9, 3))
    q = quant(rng) if dtype == np.int8 else {}
    if opcode == "AVERAGE_POOL_2D" and dtype == np.int8:
        kernel, stride, padding = (h, w), (1, 1), "VALID"
    else:
        kernel = tuple(int(d) for d in rng.integers(2, 4, 2))
        stride = tuple(int(d) for d in rng.integers(1, 3, 2))
        padding = ["SAME", "VALID"][case]
    out_shape = (1,) + tuple(window_output(n, k, s, 1, padding) for n, k, s in zip((h, w), kernel, stride)) + (c,)
    model = single_op(
        opcode,
        [("input", (1, h, w, c), dtype, q)],
        (out_shape, dtype, q),
        filter_size=kernel,
        stride=stride,
        padding=padding,
        activation=["NONE", "RELU"][case],
    )
    compile_and_compare(model, tmp_path)


# --- an unrolled LSTM -------------------------------------------------------


def unrolled_lstm(steps=6, features=10, units=8, classes=4) -> bytes:
    """A float32 keyword-spotting LSTM unrolled as converters write it:
    UNPACK of the [1, steps, features] input into time steps; per step the
    gates FC(x) + FC(h) (no FC of h at the first step: the state starts at
    zero), SPLIT into i, f, g, o; c = f * c + i * g, h = o * tanh(c) (MUL,
    ADD, LOGISTIC, TANH); then FULLY_CONNECTED and SOFTMAX on the last h."""
    rng = np.random.default_rng(1500)
    b = ModelBuilder("lstm")

    def t(*shape):
        return b.tensor(shape, np.float32)

    def const(*shape, spread=0.4):
        return b.const(rng.normal(0, spread, shape).astype(np.float32))

    x = b.input((1, steps, features), np.float32)
    frames = [t(1, features) for _ in range(steps)]
    b.op("UNPACK", [x], frames, num=steps, axis=1)
    w_x, w_h, bias = const(4 * units, features), const(4 * units, units), const(4 * units, spread=0.1)
    h = c = None
    for frame in frames:
        gates = t(1, 4 * units)
        if h is None:
            b.op("FULLY_CONNECTED", [frame, w_x, bias], [gates])
        else:
            from_x, from_h = t(1, 4 * units), t(1, 4 * units)
            b.op("FULLY_CONNECTED", [frame, w_x, bias], [from_x])
            b.op("FULLY_CONNECTED", [h, w_h, -1], [from_h])
            b.op("ADD", [from_x, from_h], [gates])
        parts = [t(1, units) for _ in range(4)]
        b.op("SPLIT", [b.const(np.array([1], np.int32)), gates], parts, num_splits=4)
        i, f, g, o = (t(1, units) for _ in range(4))
        for raw, gate, opcode in zip(parts, (i, f, g, o), ("LOGISTIC", "LOGISTIC", "TANH", "LOGISTIC")):
            b.op(opcode, [raw], [gate])
        new_c = t(1, units)
        if c is None:
            b.op("MUL", [i, g], [new_c])
        else:
            kept, added = t(1, units), t(1, units)
            b.op("MUL", [f, c], [kept])
            b.op("MUL", [i, g], [added])
            b.op("ADD", [kept, added], [new_c])
        squashed, h = t(1, units), t(1, units)
        b.op("TANH", [new_c], [squashed])
        b.op("MUL", [o, squashed], [h])
        c = new_c
    logits, y = t(1, classes), t(1, classes)
    b.op("FULLY_CONNECTED", [h, const(classes, units), const(classes, spread=0.1)], [logits])
    b.op("SOFTMAX", [logits], [y])
    b.output(y)
    return b.finish()


def test_unrolled_lstm(tmp_path):
    assert distinct(compile_and_compare(unrolled_lstm(), tmp_path)) > 50


# --- the shared reference models -------------------------------------------

MODELS = ["aww", "vww", "resnet", "micro_speech", "text_class", "toycar", "magic_wand"]


@pytest.mark.parametrize("name", MODELS)
def test_reference_model(tmp_path, shared_models, name):
    model = (shared_models / f"{name}.tflite").read_bytes()
    inputs = None
    if name == "text_class":  # token ids, which the model casts to int32
        rng = np.random.default_rng(0)
        inputs = [[rng.integers(0, 10000, (1, 256)).astype(np.float32)] for _ in range(INPUT_SETS)]
    compile_and_compare(model, tmp_path, inputs)


# --- SVDF models (the SVDF tests are below; the error cases use them too) ---

SVDF_CASES = [(1, 1, "NONE"), (2, 2, "RELU"), (1, 2, "NONE"), (2, 1, "RELU"), (1, 3, "TANH")]  # batch, rank, activation


def svdf(case, dtype, state_dtype=np.int16, state_zero_point=0) -> bytes:
    """An SVDF (`svdf_layer`) with seeded sizes on a (batch, depth) input."""
    batch, rank, activation = SVDF_CASES[case]
    rng = np.random.default_rng(2100 + case)
    depth, units, memory = int(rng.integers(4, 17)), int(rng.integers(2, 9)), int(rng.integers(2, 11))
    b = ModelBuilder("svdf")
    x_q = quant(rng) if dtype == np.int8 else {}
    x = b.input((batch, depth), dtype, **x_q)
    y, _ = svdf_layer(b, rng, x, x_q, (batch, depth), units, memory, rank, activation, state_dtype, state_zero_point)
    b.output(y)
    return b.finish()


def hybrid_svdf() -> bytes:
    """A float32 SVDF with int8 weights (TFLite's hybrid kernel; TFLM has none)."""
    rng = np.random.default_rng(2200)
    b = ModelBuilder("svdf")
    x = b.input((1, 8), np.float32)
    w_f = b.const(rng.integers(-127, 128, (4, 8), dtype=np.int8), scale=0.01)
    w_t = b.const(rng.integers(-127, 128, (4, 3), dtype=np.int8), scale=0.01)
    bias = b.const(np.zeros(4, np.float32))
    state = b.tensor((1, 12), np.float32, variable=True)
    y = b.tensor((1, 4), np.float32)
    b.op("SVDF", [x, w_f, w_t, bias, state], [y], rank=1)
    b.output(y)
    return b.finish()


# --- int8 LSTM models (the tests are below; the error cases use them too) ---

LSTM_INT8_CASES = [  # batch, steps, features, units, time major, cell scale power, cell clip, gate gain
    (2, 3, 5, 4, False, -11, 0.0, 1.5),
    (1, 4, 8, 6, True, -12, 0.0, 1.5),
    (2, 2, 3, 2, False, -11, 0.3, 1.5),
    (2, 3, 6, 3, True, -15, 0.7, 1.5),
    (2, 4, 4, 5, False, -10, 0.0, 6.0),
    (2, 12, 8, 6, False, -11, 0.0, 1.5),  # a longer sequence: the arena still within TFLM's head
]


def sequence_lstm_int8(case, input_dtype=np.int8, layer_norm=False, per_channel=False) -> bytes:
    """TFLM's 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM (`sequence_lstm_int8_layer`)
    with the sizes, cell scale, clip and gain of `LSTM_INT8_CASES[case]`."""
    batch, steps, features, units, time_major, power, clip, gain = LSTM_INT8_CASES[case]
    rng = np.random.default_rng(1970 + case)
    b = ModelBuilder("lstm")
    shape = (steps, batch, features) if time_major else (batch, steps, features)
    x_scale = float(rng.uniform(0.01, 0.03))
    h_q = {"scale": float(rng.uniform(1 / 140, 1 / 100)), "zero_point": int(rng.integers(-10, 11))}
    x = b.input(shape, input_dtype, scale=x_scale, zero_point=int(rng.integers(-20, 21)))
    y = sequence_lstm_int8_layer(
        b, rng, x, x_scale, shape, units, h_q, time_major, power, clip, gain, input_dtype, layer_norm, per_channel
    )
    b.output(y)
    return b.finish()


# --- errors -----------------------------------------------------------------


def test_unsupported_operator_is_one_line_error(tmp_path, capsys):
    model = single_op(
        "ATAN2",
        [("input", (4,), np.float32, {}), ("input", (4,), np.float32, {})],
        ((4,), np.float32, {}),
    )
    path = tmp_path / "op.tflite"
    path.write_bytes(model)
    outdir = tmp_path / "out"
    assert driver.main([str(path), "--emit", "c", "-o", str(outdir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fdt-opt-mlir: error: unsupported TFLite operator ATAN2 ")
    assert err.count("\n") == 1
    assert not outdir.exists() or not any(outdir.iterdir())


UNSUPPORTED = [  # a model TFLM runs, or refuses, that fdt-mlir refuses, and the error
    (
        single_op(
            "STRIDED_SLICE",
            [
                ("input", (2, 8), np.float32, {}),
                *[("const", np.asarray(v, np.int32), {}) for v in ([0, 2], [1, 3], [1, 1])],
            ],
            ((1, 1), np.float32, {}),
            offset=True,
        ),
        "STRIDED_SLICE 0: the offset option is not supported (TFLM ignores it, TFLite does not)",
    ),
    (
        single_op(
            "ARG_MAX", [("input", (4, 3), np.int32, {}), ("const", np.asarray([1], np.int32), {})], ((4,), np.int32, {})
        ),
        "ARG_MAX 0: int32 inputs are not supported, only float32 and int8 (as TFLM)",
    ),
    (hybrid_svdf(), "SVDF 0: int8 weights with float32 input (hybrid) are not supported, as in TFLM"),
    (
        svdf(0, np.int8, state_dtype=np.int8, state_zero_point=5),
        "SVDF 0: an int8 state with a nonzero zero point is not supported "
        "(TFLM starts it at 0, and at the zero point after a reset)",
    ),
    (
        single_op(
            "LOG_SOFTMAX",
            [("input", (2, 5), np.int8, {"scale": 0.05, "zero_point": 0})],
            ((2, 5), np.int8, {"scale": 1 / 256, "zero_point": -128}),
        ),
        "LOG_SOFTMAX 0: int8 log softmax needs an output scale of 16/256 and zero point 127",
    ),
    (
        single_op("L2_NORMALIZATION", [("input", (1, 2, 2, 2, 3), np.float32, {})], ((1, 2, 2, 2, 3), np.float32, {})),
        "L2_NORMALIZATION 0: more than 4 dimensions are not supported (as TFLM)",
    ),
    (
        sequence_lstm_int8(0, input_dtype=np.int16),
        "UNIDIRECTIONAL_SEQUENCE_LSTM 0: int16 activations are not supported, only float32 and int8",
    ),
    (
        sequence_lstm_int8(0, layer_norm=True),
        "UNIDIRECTIONAL_SEQUENCE_LSTM 0: only the basic LSTM is supported "
        "(no peepholes, projection, layer norm or CIFG, as TFLM)",
    ),
    (
        sequence_lstm_int8(1, per_channel=True),
        "UNIDIRECTIONAL_SEQUENCE_LSTM 0: per-channel weights are not supported "
        "(TFLM's LSTM reads one scale per weight)",
    ),
]


@pytest.mark.parametrize("case", range(len(UNSUPPORTED)))
def test_unsupported_variant_is_one_line_error(tmp_path, capsys, case):
    model, message = UNSUPPORTED[case]
    path = tmp_path / "op.tflite"
    path.write_bytes(model)
    assert driver.main([str(path), "--emit", "c", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"fdt-opt-mlir: error: {message}\n"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# --- comparisons, LOGICAL_*, SELECT_V2 --------------------------------------

COMPARISONS = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]


@pytest.mark.parametrize("opcode", COMPARISONS)
@pytest.mark.parametrize("dtype", [np.int8, np.float32, np.int32])
def test_comparison(tmp_path, opcode, dtype):
    """int8 inputs quantized differently, so that the rescaling matters:
    scales 3 : 1 (as float32, not exactly), the same real values in the
    first set, and TFLM rounds each input on its own scale."""
    rng = np.random.default_rng(1400)
    if dtype == np.int8:
        q1, q2 = {"scale": 0.0371, "zero_point": 3}, {"scale": 0.0371 / 3, "zero_point": -7}
        x = rng.integers(-40, 40, (2, 3, 6))
        inputs = [[(x + 3).astype(np.int8), (3 * x[1] - 7).astype(np.int8)]]
        inputs += [[rng.integers(-128, 128, (2, 3, 6), dtype=np.int8), rng.integers(-128, 128, (3, 6), dtype=np.int8)]]
    else:
        q1 = q2 = {}
        x = rng.integers(-5, 5, (2, 3, 6)).astype(dtype)
        inputs = [[x, x[1]], [x, rng.integers(-5, 5, (3, 6)).astype(dtype)]]
    model = single_op(
        opcode, [("input", (2, 3, 6), dtype, q1), ("input", (3, 6), dtype, q2)], ((2, 3, 6), np.bool_, {})
    )
    outputs = compile_and_compare(model, tmp_path, inputs)
    assert 0 < np.count_nonzero(np.concatenate(outputs)) < 72


@pytest.mark.parametrize("opcode", ["LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"])
def test_logical(tmp_path, opcode):
    rng = np.random.default_rng(1410)
    shapes = [(4, 5), (5,)][: 1 if opcode == "LOGICAL_NOT" else 2]
    model = single_op(opcode, [("input", s, np.bool_, {}) for s in shapes], ((4, 5), np.bool_, {}))
    inputs = [[rng.random(s) < 0.5 for s in shapes] for _ in range(3)]
    outputs = compile_and_compare(model, tmp_path, inputs)
    assert 0 < np.count_nonzero(np.concatenate(outputs)) < 60


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_select_v2(tmp_path, dtype):
    rng = np.random.default_rng(1420)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        "SELECT_V2",
        [("input", (3, 1), np.bool_, {}), ("input", (2, 3, 4), dtype, q), ("input", (4,), dtype, q)],
        ((2, 3, 4), dtype, q),
    )
    compile_and_compare(model, tmp_path)


# --- SUM, REDUCE_MAX, REDUCE_MIN, ARG_MAX, ARG_MIN ----------------------------


@pytest.mark.parametrize("opcode", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize("axes,keep_dims", [([1], False), ([0, 2], True)])
def test_reduce_max_min(tmp_path, opcode, dtype, axes, keep_dims):
    rng = np.random.default_rng(1500)
    q = quant(rng) if dtype == np.int8 else {}
    shape = (3, 5, 4)
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape) if keep_dims or i not in axes)
    axes_spec = ("const", np.asarray(axes, np.int32), {})
    model = single_op(opcode, [("input", shape, dtype, q), axes_spec], (out_shape, dtype, q), keep_dims=keep_dims)
    assert distinct(compile_and_compare(model, tmp_path)) > 10


@pytest.mark.parametrize("opcode", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_arg_max_min(tmp_path, opcode, dtype):
    """Inputs with ties: TFLM keeps the first index."""
    rng = np.random.default_rng(1510)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        opcode, [("input", (4, 6, 5), dtype, q), ("const", np.asarray([1], np.int32), {})], ((4, 5), np.int32, {})
    )
    inputs = [[rng.integers(-3, 3, (4, 6, 5)).astype(dtype)] for _ in range(5)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 3


# --- SQUARED_DIFFERENCE, DIV, PRELU, ELU ------------------------------------


@pytest.mark.parametrize("opcode", ["SQUARED_DIFFERENCE", "DIV"])
def test_squared_difference_div_float(tmp_path, opcode):
    rng = np.random.default_rng(1520)
    shape1, shape2, out_shape = broadcast_shapes(rng)
    options = {"activation": "RELU6"} if opcode == "DIV" else {}
    inputs = [("input", shape1, np.float32, {}), ("input", shape2, np.float32, {})]
    model = single_op(opcode, inputs, (out_shape, np.float32, {}), **options)
    compile_and_compare(model, tmp_path)


def div_defined(x, y, q1, q2, q_out):
    """Where TFLM's int8 DIV is defined: a nonzero divisor d, and unless the
    dividend a is 0, a final RoundingDivideByPOT by less than 32 bits (its
    exponent: 30 - the multiplier's shift + the bit lengths of |d| and of
    a's bits below its sign, a taking d's sign)."""
    f = np.float32
    real = float(f(q1["scale"])) / (float(f(q2["scale"])) * float(f(q_out["scale"])))
    _, shift = quantize_multiplier(real)
    a, d = x.astype(np.int64) - q1["zero_point"], y.astype(np.int64) - q2["zero_point"]
    a = np.where(d < 0, -a, a)
    bits = lambda v: np.frexp(v.astype(np.float64))[1]  # noqa: E731
    exponent = 30 - shift + bits(np.abs(d)) - bits(a ^ (a >> 63))
    return (d != 0) & ((a == 0) | (exponent <= 31))


@pytest.mark.parametrize("case", range(3))
def test_div_int8(tmp_path, case):
    """Every pair of int8 values, on three scale ratios: where TFLM's DIV is
    undefined (`div_defined`), the divisor moves off its zero point and the
    dividend onto its own (0 / d, which TFLM rounds to the zero point + 1
    when d is large)."""
    rng = np.random.default_rng(1527 + case)
    q1, q2 = quant(rng), quant(rng)
    ratio = [60.0, 3.0, 0.3][case]
    q_out = {"scale": q1["scale"] / (q2["scale"] * ratio), "zero_point": int(rng.integers(-20, 20))}
    x = np.tile(np.arange(-128, 128, dtype=np.int8), (256, 1))
    y = x.T.copy()
    y[y == q2["zero_point"]] += 1 if q2["zero_point"] < 127 else -1
    x[~div_defined(x, y, q1, q2, q_out)] = q1["zero_point"]
    activation = ["NONE", "RELU", "NONE"][case]
    inputs = [("input", x.shape, np.int8, q1), ("input", y.shape, np.int8, q2)]
    model = single_op("DIV", inputs, (x.shape, np.int8, q_out), activation=activation)
    assert distinct(compile_and_compare(model, tmp_path, [[x, y]])) > 60


def test_div_int8_broadcast(tmp_path):
    """Broadcast operands, a constant divisor, and a scale ratio above 2^6,
    where TFLM's DIV is defined for every nonzero divisor."""
    rng = np.random.default_rng(1530)
    shape1, shape2, out_shape = broadcast_shapes(rng)
    q1, q2 = quant(rng), quant(rng)
    q_out = {"scale": q1["scale"] / (q2["scale"] * 150.0), "zero_point": int(rng.integers(-20, 20))}
    y = rng.integers(-128, 128, shape2, dtype=np.int8)
    y[y == q2["zero_point"]] += 1 if q2["zero_point"] < 127 else -1
    inputs = [("input", shape1, np.int8, q1), ("const", y, q2)]
    model = single_op("DIV", inputs, (out_shape, np.int8, q_out))
    assert distinct(compile_and_compare(model, tmp_path)) > 8


@pytest.mark.parametrize("case", range(3))
def test_squared_difference_int8(tmp_path, case):
    rng = np.random.default_rng(1525 + case)
    shape1, shape2, out_shape = broadcast_shapes(rng)
    q1, q2 = quant(rng), quant(rng)
    out_q = {"scale": max(q1["scale"], q2["scale"]) ** 2 * 60, "zero_point": int(rng.integers(-128, -100))}
    inputs = [("input", shape1, np.int8, q1), ("input", shape2, np.int8, q2)]
    model = single_op("SQUARED_DIFFERENCE", inputs, (out_shape, np.int8, out_q))
    assert distinct(compile_and_compare(model, tmp_path)) > 8


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_prelu(tmp_path, dtype):
    rng = np.random.default_rng(1530)
    q_in, q_alpha, q_out = (quant(rng), quant(rng, 0.001, 0.01), quant(rng)) if dtype == np.int8 else ({}, {}, {})
    alpha = rng.integers(-128, 128, (1, 1, 6)) if dtype == np.int8 else rng.uniform(-1, 1, (1, 1, 6))
    model = single_op(
        "PRELU",
        [("input", (1, 4, 5, 6), dtype, q_in), ("const", alpha.astype(dtype), q_alpha)],
        ((1, 4, 5, 6), dtype, q_out),
    )
    assert distinct(compile_and_compare(model, tmp_path)) > 30


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_elu(tmp_path, dtype):
    rng = np.random.default_rng(1540)
    q_in, q_out = (quant(rng, 0.02, 0.05), quant(rng, 0.01, 0.03)) if dtype == np.int8 else ({}, {})
    model = single_op("ELU", [("input", (2, 128), dtype, q_in)], ((2, 128), dtype, q_out))
    inputs = all_int8_values((2, 128)) if dtype == np.int8 else None
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 60


# --- ZEROS_LIKE, FILL -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8])
def test_zeros_like(tmp_path, dtype):
    """int8 too: TFLM writes a raw 0, not the zero point."""
    model = single_op("ZEROS_LIKE", [("input", (3, 4), dtype, {})], ((3, 4), dtype, {}))
    outputs = compile_and_compare(model, tmp_path, [[np.ones((3, 4), dtype)]])
    assert outputs[0].shape == (3, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8])
def test_fill(tmp_path, dtype):
    """FILL of a model input, so that the filled value is not a constant."""
    model = single_op(
        "FILL", [("const", np.asarray([2, 3, 4], np.int32), {}), ("input", (), dtype, {})], ((2, 3, 4), dtype, {})
    )
    outputs = compile_and_compare(model, tmp_path, [[np.asarray(7, dtype)], [np.asarray(-3, dtype)]])
    assert distinct(outputs) == 2


# --- DEPTH_TO_SPACE, SPACE_TO_DEPTH, STRIDED_SLICE, EMBEDDING_LOOKUP ---------


@pytest.mark.parametrize(
    "opcode,shape,out_shape",
    [("DEPTH_TO_SPACE", (1, 3, 2, 12), (1, 6, 4, 3)), ("SPACE_TO_DEPTH", (1, 6, 4, 3), (1, 3, 2, 12))],
)
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_depth_space(tmp_path, opcode, shape, out_shape, dtype):
    rng = np.random.default_rng(1550)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(opcode, [("input", shape, dtype, q)], (out_shape, dtype, q), block_size=2)
    compile_and_compare(model, tmp_path)


STRIDED_SLICES = [  # begin, end, strides, options
    ([0, 1, 0], [2, 7, 5], [1, 2, 1], {}),
    ([1, -1, 4], [0, 0, 0], [1, -2, -1], {"begin_mask": 0b001, "end_mask": 0b101}),
    ([-1, 2, 1], [0, 3, 3], [1, 1, 1], {"shrink_axis_mask": 0b011}),
    ([0, 2, 1], [1, 3, 3], [1, 1, 2], {}),
]


@pytest.mark.parametrize("case", range(len(STRIDED_SLICES)))
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_strided_slice(tmp_path, case, dtype):
    """The output shape is TFLite's, worked out by hand for each case."""
    begin, end, strides, options = STRIDED_SLICES[case]
    out_shape = [(2, 3, 5), (2, 4, 5), (2,), (1, 1, 1)][case]
    rng = np.random.default_rng(1560 + case)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        "STRIDED_SLICE",
        [("input", (2, 8, 5), dtype, q), *[("const", np.asarray(v, np.int32), {}) for v in (begin, end, strides)]],
        (out_shape, dtype, q),
        **options,
    )
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("value_dtype,out_dtype", [(np.float32, np.float32), (np.int8, np.int8), (np.int8, np.float32)])
def test_embedding_lookup(tmp_path, value_dtype, out_dtype):
    rng = np.random.default_rng(1570)
    q = {"scale": 0.04, "zero_point": 0} if value_dtype == np.int8 else {}
    table = rng.integers(-128, 128, (10, 2, 3)) if value_dtype == np.int8 else rng.uniform(-1, 1, (10, 2, 3))
    model = single_op(
        "EMBEDDING_LOOKUP",
        [("input", (4,), np.int32, {}), ("const", table.astype(value_dtype), q)],
        ((4, 2, 3), out_dtype, q if out_dtype == np.int8 else {}),
    )
    inputs = [[rng.integers(0, 10, 4).astype(np.int32)] for _ in range(5)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 10


# --- RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR --------------------------------

RESIZES = [  # input H x W, output H x W, options
    ((3, 4), (6, 8), {}),
    ((4, 5), (7, 3), {"align_corners": True}),
    ((5, 3), (8, 7), {"half_pixel_centers": True}),
]


@pytest.mark.parametrize("opcode", ["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"])
@pytest.mark.parametrize("case", range(len(RESIZES)))
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_resize(tmp_path, opcode, case, dtype):
    (h, w), (oh, ow), options = RESIZES[case]
    rng = np.random.default_rng(1600 + case)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        opcode,
        [("input", (2, h, w, 3), dtype, q), ("const", np.asarray([oh, ow], np.int32), {})],
        ((2, oh, ow, 3), dtype, q),
        **options,
    )
    assert distinct(compile_and_compare(model, tmp_path)) > 50


# --- BATCH_MATMUL, TRANSPOSE_CONV -------------------------------------------

BATCH_MATMULS = [  # lhs shape, rhs shape, adj_x, adj_y, output shape
    ((2, 3, 4), (2, 4, 5), False, False, (2, 3, 5)),
    ((3, 4), (2, 5, 4), False, True, (2, 3, 5)),
    ((2, 1, 4, 3), (3, 4, 5), True, False, (2, 3, 3, 5)),
]


@pytest.mark.parametrize("case", range(len(BATCH_MATMULS)))
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_batch_matmul(tmp_path, case, dtype):
    lhs, rhs, adj_x, adj_y, out_shape = BATCH_MATMULS[case]
    rng = np.random.default_rng(1700 + case)
    q1, q2 = (quant(rng), quant(rng)) if dtype == np.int8 else ({}, {})
    q_out = {"scale": q1["scale"] * q2["scale"] * 150, "zero_point": 5} if dtype == np.int8 else {}
    model = single_op(
        "BATCH_MATMUL",
        [("input", lhs, dtype, q1), ("input", rhs, dtype, q2)],
        (out_shape, dtype, q_out),
        adj_x=adj_x,
        adj_y=adj_y,
    )
    assert distinct(compile_and_compare(model, tmp_path)) > 30


TRANSPOSE_CONVS = [  # input H x W, kernel, stride, padding, output H x W
    ((4, 5), (3, 3), (2, 2), "SAME", (8, 10)),
    ((3, 4), (3, 2), (2, 1), "VALID", (7, 5)),
    ((5, 4), (4, 4), (2, 3), "SAME", (10, 12)),
]


@pytest.mark.parametrize("case", range(len(TRANSPOSE_CONVS)))
@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_transpose_conv(tmp_path, case, dtype):
    (h, w), (kh, kw), stride, padding, (oh, ow) = TRANSPOSE_CONVS[case]
    rng = np.random.default_rng(1800 + case)
    ic, oc = 3, 4
    b = ModelBuilder("tconv")
    if dtype == np.int8:
        x = b.input((1, h, w, ic), dtype, **quant(rng))
        w_scales = rng.uniform(0.002, 0.01, oc)
        weights = b.const(
            rng.integers(-127, 128, (oc, kh, kw, ic)).astype(np.int8), scale=w_scales, zero_point=[0] * oc
        )
        bias = b.const(rng.integers(-2000, 2000, oc).astype(np.int32), scale=w_scales * 0.05, zero_point=[0] * oc)
        y = b.tensor((1, oh, ow, oc), dtype, scale=0.05, zero_point=-3)
    else:
        x = b.input((1, h, w, ic), dtype)
        weights = b.const(rng.normal(0, 0.5, (oc, kh, kw, ic)).astype(np.float32))
        bias = b.const(rng.normal(0, 0.1, oc).astype(np.float32))
        y = b.tensor((1, oh, ow, oc), dtype)
    shape = b.const(np.asarray([1, oh, ow, oc], np.int32))
    b.op(
        "TRANSPOSE_CONV",
        [shape, weights, x, bias],
        [y],
        padding=padding,
        stride=stride,
        activation="RELU" if case == 2 else "NONE",
    )
    b.output(y)
    assert distinct(compile_and_compare(b.finish(), tmp_path)) > 30


# --- SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, L2_NORMALIZATION, LOG_SOFTMAX ------


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
@pytest.mark.parametrize(
    "opcode,shape,block,pads,out_shape",
    [
        ("SPACE_TO_BATCH_ND", (2, 4, 6, 3), [2, 3], [[0, 0], [0, 0]], (12, 2, 2, 3)),
        ("BATCH_TO_SPACE_ND", (12, 2, 3, 3), [2, 3], [[1, 0], [2, 3]], (2, 3, 4, 3)),
        ("BATCH_TO_SPACE_ND", (4, 3, 2), [2], [[0, 1]], (2, 5, 2)),
    ],
)
def test_space_batch(tmp_path, dtype, opcode, shape, block, pads, out_shape):
    """SPACE_TO_BATCH_ND without padding (padding: test_space_to_batch_padded)."""
    rng = np.random.default_rng(1900)
    q = quant(rng) if dtype == np.int8 else {}
    model = single_op(
        opcode,
        [
            ("input", shape, dtype, q),
            ("const", np.asarray(block, np.int32), {}),
            ("const", np.asarray(pads, np.int32), {}),
        ],
        (out_shape, dtype, q),
    )
    compile_and_compare(model, tmp_path)


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_space_to_batch_padded(tmp_path, dtype):
    """TFLM's SPACE_TO_BATCH_ND leaves the padding value of its parameters
    unset, so its pad elements hold whatever it happens to be. The elements
    that come from the input are compared with TFLM; the pad elements must
    be TFLite's value, the output zero point (0.0 in float)."""
    rng = np.random.default_rng(1905)
    shape, block, pads, out_shape = (2, 3, 4, 2), [2, 2], [[1, 0], [0, 2]], (8, 2, 3, 2)
    q = quant(rng) if dtype == np.int8 else {}
    consts = [("const", np.asarray(block, np.int32), {}), ("const", np.asarray(pads, np.int32), {})]
    model = single_op("SPACE_TO_BATCH_ND", [("input", shape, dtype, q), *consts], (out_shape, dtype, q))
    path = tmp_path / "op.tflite"
    path.write_bytes(model)
    assert driver.main([str(path), "--emit", "c", "-o", str(tmp_path / "out")]) == 0
    cmodel = CModel(tmp_path / "out", "op")
    # Which output elements come from the input: the layout TFLite defines,
    # applied to a mask (batch-major blocks of the padded image).
    mask = np.pad(np.ones(shape, bool), [(0, 0), *pads, (0, 0)])
    n, h, w, c = mask.shape
    mask = mask.reshape(n, h // 2, 2, w // 2, 2, c).transpose(2, 4, 0, 1, 3, 5).reshape(out_shape)
    pad_value = q.get("zero_point", 0)
    for arrays in random_inputs(model, 5, seed=0):
        want, got = run_tflm(model, arrays)[0], cmodel.run(arrays)[0].reshape(out_shape)
        np.testing.assert_array_equal(got[mask], want[mask])
        np.testing.assert_array_equal(got[~mask], np.full((~mask).sum(), pad_value, dtype))
    assert mask.sum() == np.prod(shape) and (~mask).any()
    assert json.loads((tmp_path / "out" / "op.report.json").read_text())["arena_bytes"] <= tflm_head_bytes(model)


@pytest.mark.parametrize("shape", [(2, 128), (2, 3, 7), (1, 4, 2, 16)])
def test_l2_normalization_int8(tmp_path, shape):
    """Every int8 value, random rows, and rows at the zero point but for a
    few +-1 (sums of squares 0 to 4: TFLM's 1 / sqrt of 0 and 1 is its
    largest multiplier, and small sums shift its multiplier left)."""
    rng = np.random.default_rng(1910 + len(shape))
    q_in = quant(rng)
    out_q = {"scale": 1 / 128, "zero_point": 0}
    model = single_op("L2_NORMALIZATION", [("input", shape, np.int8, q_in)], (shape, np.int8, out_q))
    zp = q_in["zero_point"]
    rows = np.full((int(np.prod(shape[:-1])), shape[-1]), zp)
    for r in range(len(rows)):
        rows[r, : r % 5] = zp + (1 if zp < 127 else -1) * (-1) ** r
    near_zero = [[rows.reshape(shape).astype(np.int8)]]
    inputs = all_int8_values(shape) + near_zero + random_inputs(model, 5, seed=1)
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 20


@pytest.mark.parametrize("shape,scale", [((2, 128), 0.02), ((2, 3, 7), 0.3), ((4, 300), 0.08), ((1, 5), 0.006)])
def test_log_softmax_int8(tmp_path, shape, scale):
    """Every int8 value, random rows over the whole range and within 20 of
    each other (outputs above TFLM's -128), and constant rows."""
    rng = np.random.default_rng(1920 + shape[-1])
    q_in = {"scale": scale, "zero_point": int(rng.integers(-128, 128))}
    out_q = {"scale": 16 / 256, "zero_point": 127}
    model = single_op("LOG_SOFTMAX", [("input", shape, np.int8, q_in)], (shape, np.int8, out_q))
    narrow = [[rng.integers(-10, 10, shape, dtype=np.int8)] for _ in range(3)]
    constant = [[np.full(shape, 5, np.int8)]]
    inputs = all_int8_values(shape) + random_inputs(model, 3, seed=1) + narrow + constant
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 10


@pytest.mark.parametrize("opcode", ["L2_NORMALIZATION", "LOG_SOFTMAX"])
def test_normalizations_float(tmp_path, opcode):
    model = single_op(opcode, [("input", (2, 3, 7), np.float32, {})], ((2, 3, 7), np.float32, {}))
    assert distinct(compile_and_compare(model, tmp_path)) > 100


# --- UNIDIRECTIONAL_SEQUENCE_LSTM --------------------------------------------


def sequence_lstm(steps=5, features=6, units=4, batch=2, time_major=False, cell_clip=0.0) -> bytes:
    """A float32 UNIDIRECTIONAL_SEQUENCE_LSTM (`sequence_lstm_layer`)."""
    rng = np.random.default_rng(1950)
    b = ModelBuilder("lstm")
    shape = (steps, batch, features) if time_major else (batch, steps, features)
    x = b.input(shape, np.float32)
    b.output(sequence_lstm_layer(b, rng, x, shape, units, time_major, cell_clip))
    return b.finish()


@pytest.mark.parametrize("time_major,cell_clip", [(False, 0.0), (True, 0.0), (False, 0.5)])
def test_sequence_lstm(tmp_path, time_major, cell_clip):
    model = sequence_lstm(time_major=time_major, cell_clip=cell_clip)
    rng = np.random.default_rng(1960)
    shape = (5, 2, 6) if time_major else (2, 5, 6)
    inputs = [[rng.uniform(-2, 2, shape).astype(np.float32)] for _ in range(5)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 150
    header = (tmp_path / "out" / "op.h").read_text()
    assert "carries over from one invoke to the next" in header
    assert "#define op_STATE_BYTES 64" in header  # h and c, (2, 4) float each
    assert json.loads((tmp_path / "out" / "op.report.json").read_text())["state_bytes"] == 64


def test_sequence_lstm_long(tmp_path):
    """28 steps of 20 units: each step writes its hidden state into the
    output and reads its frame in place, and the gates come one at a time,
    so the arena stays within TFLM's head (a concatenation of the steps'
    states and a transposed copy of the input needed 4480 B, the head is
    3456 B)."""
    model = sequence_lstm(steps=28, features=8, units=20, batch=1)
    rng = np.random.default_rng(1965)
    inputs = [[rng.uniform(-2, 2, (1, 28, 8)).astype(np.float32)] for _ in range(3)]
    assert distinct(compile_and_compare(model, tmp_path, inputs)) > 1000


@pytest.mark.parametrize("time_major", [False, True])
def test_sequence_lstm_invokes(tmp_path, time_major):
    """The output and cell state carry over from one invoke to the next, as
    TFLM's variable tensors do, until op_reset()."""
    model = sequence_lstm(time_major=time_major, cell_clip=0.5)
    rng = np.random.default_rng(1970)
    shape = (5, 2, 6) if time_major else (2, 5, 6)
    inputs = [[rng.uniform(-2, 2, shape).astype(np.float32)] for _ in range(5)]
    assert distinct(compare_invokes(model, tmp_path, inputs)) > 150


@pytest.mark.parametrize("case", range(len(LSTM_INT8_CASES)))
def test_sequence_lstm_int8(tmp_path, case):
    """Exact against TFLM (whose state starts at its reset value: the hidden
    state at its zero point, the cell state at 0), on full-range inputs."""
    outputs = compile_and_compare(sequence_lstm_int8(case), tmp_path)
    assert distinct(outputs) > min(100, 5 * outputs[0].size)
    header = (tmp_path / "out" / "op.h").read_text()
    assert "carries over from one invoke to the next" in header


@pytest.mark.parametrize("case", [0, 3])
def test_sequence_lstm_int8_invokes(tmp_path, case):
    """The int8 hidden state (from its zero point) and the int16 cell state
    carry over from one invoke to the next, as TFLM's, until op_reset(),
    which restores the zero point."""
    model = sequence_lstm_int8(case)
    inputs = random_inputs(model, 6, seed=3)
    outputs = compare_invokes(model, tmp_path, inputs)
    assert distinct(outputs) > 2 * outputs[0].size


# --- SVDF -------------------------------------------------------------------


@pytest.mark.parametrize("case", range(len(SVDF_CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_svdf(tmp_path, case, dtype):
    """float32, and int8 with an int16 state; int8 ignores the fused
    activation, as TFLM's integer kernel does."""
    model = svdf(case, dtype)
    outputs = compile_and_compare(model, tmp_path)
    assert distinct(outputs) > min(100, 10 * outputs[0].size)
    header = (tmp_path / "out" / "op.h").read_text()
    assert "carries over from one invoke to the next" in header


@pytest.mark.parametrize("case", range(len(SVDF_CASES)))
@pytest.mark.parametrize(
    "dtype,state_dtype,state_zero_point",
    [(np.float32, None, 0), (np.int8, np.int16, 0), (np.int8, np.int8, 0), (np.int8, np.int16, 20000)],
)
def test_svdf_invokes(tmp_path, case, dtype, state_dtype, state_zero_point):
    """The activation state carries over from one invoke to the next (its
    memory fills up, then older frames drop out), as TFLM's variable tensor
    does, until op_reset()."""
    model = svdf(case, dtype, state_dtype=state_dtype or np.int16, state_zero_point=state_zero_point)
    inputs = random_inputs(model, 12, seed=1)
    outputs = compare_invokes(model, tmp_path, inputs)
    # RELU zeroes about half; a state with a zero point saturates some.
    assert distinct(outputs) > len(inputs) * outputs[0].size // 5


@pytest.mark.parametrize(
    "model", [sequence_lstm, lambda: sequence_lstm_int8(0), lambda: svdf(1, np.int8)], ids=["lstm", "lstm_int8", "svdf"]
)
def test_recurrent_state_predicted(tmp_path, model):
    """The cost model keeps the state out of the arena as the lowering does:
    the searched compile's predicted arena is the planned one."""
    path = tmp_path / "op.tflite"
    path.write_bytes(model())
    report = compile(path, Options("all")).report
    assert report["arena_bytes_predicted"] == report["arena_bytes"]


@pytest.mark.parametrize("case", range(len(SVDF_CASES)))
def test_svdf_int8_state(tmp_path, case):
    """TFLM's SVDF with int8 time weights and state (EvalInt8SvdfReference)."""
    outputs = compile_and_compare(svdf(case, np.int8, state_dtype=np.int8), tmp_path)
    assert distinct(outputs) > min(80, 5 * outputs[0].size)


@pytest.mark.parametrize("case", [1, 3])
def test_svdf_state_zero_point(tmp_path, case):
    """An int16 state with a zero point: the state starts at 0, not at the
    zero point, and TFLM wraps the newest column's value plus the zero
    point to int16 (a few of these inputs' values wrap)."""
    outputs = compile_and_compare(svdf(case, np.int8, state_zero_point=20000), tmp_path)
    assert distinct(outputs) > min(80, 5 * outputs[0].size)
