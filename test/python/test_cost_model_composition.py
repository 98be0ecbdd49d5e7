"""The cost model's composition (fdt_mlir/search/cost_model.py): how the units'
signatures become the program's buffers, and the bound of the search.

The model is a small MLP, 1x4 -> dense (8) -> dense (1), float32: its input
is 16 bytes, its hidden layer 32 bytes, its output 4 bytes. Composition
tests hand it made-up signatures, so that every interval is derived by hand.
"""

import numpy as np
import pytest
from mlir import ir

from fdt_mlir.api import Options, compile
from fdt_mlir.dialect import make_context
from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.importers import load
from fdt_mlir.pipeline import TOSA_TO_LINALG, run_passes
from fdt_mlir.search.cost_model import CostModel, Unit
from fdt_mlir.search.unit_lowering import Signature
from fdt_mlir.testing.target_models import mlp_model, partial_sum_model
from fdt_mlir.tiling_plan import Path

FC0, FC1 = "FULLY_CONNECTED:0", "FULLY_CONNECTED:1"


def _cost_model(tmp_path_factory, model: bytes):
    path = tmp_path_factory.mktemp("costmodel") / "m.tflite"
    path.write_bytes(model)
    module = load(str(path), "m")
    run_passes(module, TOSA_TO_LINALG)
    return CostModel(module)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    with make_context(), ir.Location.unknown():
        yield _cost_model(tmp_path_factory, mlp_model(hidden=8))


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    with make_context(), ir.Location.unknown():
        yield _cost_model(tmp_path_factory, partial_sum_model())


def _unit(name, sources):
    """A unit as _compose sees it: its name and its inputs' producers."""
    return Unit(name, (name,), None, (), tuple(sources), (None,))


def _signature(steps, input_last, output_first, output_bytes, scratch=(), output_alias=None):
    return Signature(steps, tuple(input_last), ((output_first, output_alias, output_bytes, None),), tuple(scratch), 0)


def _intervals(buffers):
    return [(b.key, b.size, b.first, b.last) for b in buffers]


def test_units_and_their_sources(mlp):
    """Each kernel is a unit reading the model input or the previous kernel;
    a path is one unit named after its last kernel, reading the path's inputs."""
    assert [(u.name, u.sources) for u in mlp.units([])] == [(FC0, (0,)), (FC1, (FC0,))]
    path = Path("fdt", "c", (2,), (FC0, FC1), "<>")
    (unit,) = mlp.units([path])
    assert (unit.name, unit.kernels, unit.sources, unit.key) == (FC1, (FC0, FC1), (0,), path.notation())


def test_composition_offsets_steps_and_extends_lifetimes(mlp):
    """Units run one after the other from step 1; scratch buffers and
    outputs move by the unit's first step; an input lives until the last
    step of its last reader; the model output lives to the end, as output0."""
    units = [_unit(FC0, [0]), _unit(FC1, [FC0, 0])]
    signatures = {
        # FC0 runs at steps 1-3: reads the input until its step 1, a 64-byte
        # scratch lives at steps 0-1, the 32-byte output is written at step 2.
        FC0: _signature(3, [1], 2, 32, scratch=[(64, 0, 1)]),
        # FC1 runs at steps 4-7: reads FC0 until its step 2 and the model
        # input until its step 3; two scratch buffers; output at step 3.
        FC1: _signature(4, [2, 3], 3, 4, scratch=[(8, 1, 2), (12, 0, 3)]),
    }
    assert _intervals(mlp._compose(units, signatures)) == [
        # Read by FC0 until 1 + 1 = 2, then by FC1 until 4 + 3 = 7.
        ("input0", 16, 0, 7),
        ("FULLY_CONNECTED:0#0", 64, 1 + 0, 1 + 1),
        # Written at 1 + 2 = 3, read by FC1 until 4 + 2 = 6.
        (FC0, 32, 3, 6),
        ("FULLY_CONNECTED:1#0", 8, 4 + 1, 4 + 2),
        ("FULLY_CONNECTED:1#1", 12, 4 + 0, 4 + 3),
        # Written at 4 + 3 = 7; the program ends at step 1 + 3 + 4 = 8.
        ("output0", 4, 7, 8),
    ]


def test_unread_input_keeps_its_lifetime(mlp):
    """An input the unit never reads (None) does not live longer for it."""
    units = [_unit(FC0, [0]), _unit(FC1, [FC0, 0])]
    signatures = {FC0: _signature(2, [0], 1, 32), FC1: _signature(2, [1, None], 1, 4)}
    assert _intervals(mlp._compose(units, signatures)) == [
        # Read by FC0 at step 1 only.
        ("input0", 16, 0, 1),
        # Written at 1 + 1, read by FC1 until 3 + 1.
        (FC0, 32, 2, 4),
        # Written at 3 + 1; the end is 1 + 2 + 2 = 5.
        ("output0", 4, 4, 5),
    ]


def test_output_aliasing_an_input_is_that_input_buffer(mlp):
    """A unit whose output is a view of its input adds no buffer: the
    input's buffer becomes the model output and lives to the end."""
    units = [_unit(FC0, [0]), _unit(FC1, [0, FC0])]
    signatures = {
        FC0: _signature(2, [0], 1, 32),
        # FC1's output is a view of its input 1 (FC0's output); its own size is ignored.
        FC1: _signature(3, [None, 2], 2, 999, output_alias=1),
    }
    assert _intervals(mlp._compose(units, signatures)) == [
        ("input0", 16, 0, 1),
        # Written at 1 + 1; FC1 reads it until 3 + 2 = 5, and as the model
        # output it lives to the end, 1 + 2 + 3 = 6.
        ("output0", 32, 2, 6),
    ]


def test_output_aliasing_the_model_input(mlp):
    """A view of the model input that is the model output keeps the input
    buffer alive from step 0 to the end."""
    units = [_unit(FC0, [0]), _unit(FC1, [0])]
    signatures = {FC0: _signature(2, [0], 1, 32), FC1: _signature(2, [1], 1, 4, output_alias=0)}
    assert _intervals(mlp._compose(units, signatures)) == [
        # Read until 3 + 1 = 4, then the model output until 1 + 2 + 2 = 5.
        ("output0", 16, 0, 5),
        # FC0's output is written at 1 + 1 and read by no one.
        (FC0, 32, 2, 2),
    ]


def test_untiled_prediction_has_the_model_tensors(mlp):
    """The untiled program holds the input, the hidden layer and the output
    at their sizes, and its MACs are the two dense layers'."""
    prediction = mlp.predict([])
    sizes = {b.key: b.size for b in prediction.buffers}
    # 1x4, 1x8 and 1x1 float32.
    assert (sizes["input0"], sizes[FC0], sizes["output0"]) == (16, 32, 4)
    # 4 x 8 + 8 x 1.
    assert prediction.macs == mlp.macs_untiled == 40
    # The input and the hidden layer meet (the first layer reads one and writes the other).
    assert prediction.arena >= 16 + 32


def test_lower_bound_of_a_path_over_the_whole_mlp(mlp):
    """The bound prices the path as a 2-step unit without buffers of its own
    whose input and output are live together at one step: its first tile
    writes the output (4 B) before its last one reads the input (16 B)."""
    path = Path("fdt", "c", (2,), (FC0, FC1), "<>")
    assert mlp.lower_bound([], path) == 16 + 4
    prediction = mlp.predict([path])
    assert 16 + 4 <= prediction.arena
    # FDT adds no MACs: 4 x 8 + 8 x 1.
    assert prediction.macs == 40


@pytest.mark.parametrize(
    "notation, least",
    [
        # The path's unit writes CONV_2D:1's whole 1x8x8x64 float32 map: 16384 B.
        (("fdt", "c", (4,), ("CONV_2D:0", "CONV_2D:1"), "<>"), 16384),
        (("ffmt", "h", (2,), ("CONV_2D:0", "CONV_2D:1"), "ss"), 16384),
        # Through the mean, the output is 1x64 (256 B): the 1x8x8x8 input (2048 B) is the most.
        (("fdt", "c", (4,), ("CONV_2D:0", "CONV_2D:1", "MEAN:2"), "<>~"), 2048),
    ],
)
def test_lower_bound_never_exceeds_the_predicted_arena(partial, notation, least):
    """On 8x8x8 -> conv 1x1 (64) -> conv 1x1 (64) -> mean -> dense (10): the
    bound holds the path's own input or output and is at most the arena."""
    path = Path(*notation)
    bound = partial.lower_bound([], path)
    assert least <= bound <= partial.predict([path]).arena


def _split_model() -> bytes:
    """int8 1x4x4x5 -> RELU -> SPLIT_V (3, 1, 1 channels) -> CONCATENATION
    of the parts in reverse: three outputs of one kernel, each read by the
    concatenation (random network seed 1018 had such a SPLIT_V)."""
    q = {"scale": 0.05, "zero_point": -3}
    b = ModelBuilder("split")
    x = b.input((1, 4, 4, 5), np.int8, **q)
    r = b.tensor((1, 4, 4, 5), np.int8, **q)
    b.op("RELU", [x], [r])
    parts = [b.tensor((1, 4, 4, n), np.int8, **q) for n in (3, 1, 1)]
    sizes, axis = b.const(np.asarray([3, 1, 1], np.int32)), b.const(np.asarray([3], np.int32))
    b.op("SPLIT_V", [r, sizes, axis], parts, num_splits=3)
    y = b.tensor((1, 4, 4, 5), np.int8, **q)
    b.op("CONCATENATION", parts[::-1], [y], axis=3)
    b.output(y)
    return b.finish()


def test_each_output_of_a_kernel_is_a_buffer(tmp_path):
    """A kernel's parts read outside it are a buffer each, as lowered: the
    predicted arena is the planned one (the root's part alone was 16 B less)."""
    path = tmp_path / "split.tflite"
    path.write_bytes(_split_model())
    with make_context(), ir.Location.unknown():
        module = load(str(path), "m")
        run_passes(module, TOSA_TO_LINALG)
        prediction = CostModel(module).predict([])
    sizes = {b.key: b.size for b in prediction.buffers}
    assert (sizes["SPLIT_V:1"], sizes["SPLIT_V:1#out1"], sizes["SPLIT_V:1#out2"]) == (16, 48, 16)
    assert prediction.arena == compile(path, Options("none", overlap=False)).report["arena_bytes"]
