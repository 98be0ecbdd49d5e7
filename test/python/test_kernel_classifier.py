"""Kernels (fdt_mlir/analysis/kernels.py): grouping ops by location name and the
classification the chaining rules of fused tiling ask (channels mixed,
channel-wise, spatial, output-only splits, reshapes)."""

import numpy as np
import pytest
from mlir import ir

from fdt_mlir.analysis.indexing import maps
from fdt_mlir.analysis.kernels import function_body, kernels_of, reshape_fold
from fdt_mlir.dialect import make_context
from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.importers import load
from fdt_mlir.pipeline import TOSA_TO_LINALG, run_passes


def _model() -> bytes:
    """1x6x6x2 -> conv 3x3 SAME (4) -> depthwise 3x3 SAME -> maxpool 2x2 ->
    ADD (the pool with itself) -> dense (5), which flattens its 1x3x3x4 input."""
    b = ModelBuilder("kernels")
    x = b.input([1, 6, 6, 2], np.float32)
    conv = b.tensor([1, 6, 6, 4], np.float32)
    weights = np.full((4, 3, 3, 2), 0.5, np.float32)
    b.op("CONV_2D", [x, b.const(weights), b.const(np.zeros(4, np.float32))], [conv], padding="SAME")
    dw = b.tensor([1, 6, 6, 4], np.float32)
    weights = np.full((1, 3, 3, 4), 0.5, np.float32)
    b.op("DEPTHWISE_CONV_2D", [conv, b.const(weights), b.const(np.zeros(4, np.float32))], [dw], padding="SAME")
    pool = b.tensor([1, 3, 3, 4], np.float32)
    b.op("MAX_POOL_2D", [dw], [pool], filter_size=(2, 2), stride=(2, 2), padding="VALID")
    add = b.tensor([1, 3, 3, 4], np.float32)
    b.op("ADD", [pool, pool], [add])
    dense = b.tensor([1, 5], np.float32)
    weights = np.full((5, 36), 0.5, np.float32)
    b.op("FULLY_CONNECTED", [add, b.const(weights), b.const(np.zeros(5, np.float32))], [dense])
    b.output(dense)
    return b.finish()


NAMES = ["CONV_2D:0", "DEPTHWISE_CONV_2D:1", "MAX_POOL_2D:2", "ADD:3", "FULLY_CONNECTED:4"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """(function body, {name: Kernel}) of the model lowered to linalg."""
    path = tmp_path_factory.mktemp("kernels") / "m.tflite"
    path.write_bytes(_model())
    with make_context(), ir.Location.unknown():
        module = load(str(path), "m")
        run_passes(module, TOSA_TO_LINALG)
        block = function_body(module.operation)
        yield block, {k.name: k for k in kernels_of(block)}


def test_kernels_are_the_operators_in_program_order(model):
    """One kernel per TFLite operator, named OPCODE:index."""
    block, _ = model
    assert [k.name for k in kernels_of(block)] == NAMES


@pytest.mark.parametrize(
    "name, mixes, output_only, channelwise, spatial",
    [
        # conv: each output channel reduces over all input channels.
        ("CONV_2D:0", True, True, False, True),
        # depthwise: channel c from channel c, window by window.
        ("DEPTHWISE_CONV_2D:1", False, False, True, True),
        # maxpool: the same, its window a shape-only tensor.empty.
        ("MAX_POOL_2D:2", False, False, True, True),
        # elementwise add: every input carries the channel axis.
        ("ADD:3", False, False, True, True),
        # dense on a flattened map: mixes features, rank-2 output, reshapes.
        ("FULLY_CONNECTED:4", True, True, False, False),
    ],
)
def test_classification(model, name, mixes, output_only, channelwise, spatial):
    """What each kernel does to the channel and spatial axes."""
    kernel = model[1][name]
    assert kernel.mixes_channels() is mixes
    assert kernel.splits_output_only() is output_only
    assert kernel.channelwise() is channelwise
    assert kernel.spatial() is spatial


@pytest.mark.parametrize(
    "name, ops, main",
    [
        # pad, bias broadcast (the accumulator's init), the conv.
        ("CONV_2D:0", ["tensor.pad", "linalg.generic", "linalg.generic"], 2),
        # pad, zero fill, the depthwise conv, bias add.
        ("DEPTHWISE_CONV_2D:1", ["tensor.pad"] + ["linalg.generic"] * 3, 2),
        # -inf fill, the window max: no multiply, no main.
        ("MAX_POOL_2D:2", ["linalg.generic"] * 2, None),
        ("ADD:3", ["linalg.generic"], None),
        # flatten, add the batch dim, zero fill, the matmul, drop the batch dim.
        (
            "FULLY_CONNECTED:4",
            [
                "tensor.collapse_shape",
                "tensor.expand_shape",
                "linalg.generic",
                "linalg.generic",
                "tensor.collapse_shape",
            ],
            3,
        ),
    ],
)
def test_ops_and_main(model, name, ops, main):
    """A kernel holds its operator's ops; `main` is its multiply-accumulate."""
    kernel = model[1][name]
    assert [op.name for op in kernel.ops] == ops
    assert kernel.main == (None if main is None else kernel.ops[main])


def test_root_inputs_and_consumers(model):
    """Each kernel reads the previous one's root and is read by the next one."""
    block, kernels = model
    conv, dw, pool, add, dense = (kernels[n] for n in NAMES)
    # The root writes the kernel's output: the conv generic, the bias add,
    # the window max, the add, the final collapse_shape of the dense layer.
    roots = [conv.ops[2], dw.ops[3], pool.ops[1], add.ops[0], dense.ops[4]]
    assert [k.root for k in (conv, dw, pool, add, dense)] == roots
    assert conv.inputs() == [block.arguments[0]]
    assert dw.inputs() == [conv.root.results[0]]
    # ADD reads the pool's output twice: one input.
    assert add.inputs() == [pool.root.results[0]]
    assert dense.inputs() == [add.root.results[0]]
    # The depthwise conv's pad reads the conv; the dense layer's output is returned.
    assert conv.consumers() == [dw.ops[0]]
    assert {op.name for op in pool.consumers()} == {"linalg.generic"}
    assert all(op == add.ops[0] for op in pool.consumers())
    assert [op.name for op in dense.consumers()] == ["func.return"]
    assert dense.output_type.shape == [1, 5]


def test_dense_layer_folds_its_flatten(model):
    """The dense layer reads the 1x3x3x4 map through a flatten: its
    reduction over 36 features splits into (h, w, c) and its weights expand."""
    dense = model[1]["FULLY_CONNECTED:4"]
    main = dense.main
    # Loops (b, m, n, k): input (b, m, k), weights (b, k, n), output (b, m, n).
    assert [str(m) for m in maps(main)] == [
        "(d0, d1, d2, d3) -> (d0, d1, d3)",
        "(d0, d1, d2, d3) -> (d0, d3, d2)",
        "(d0, d1, d2, d3) -> (d0, d1, d2)",
    ]
    assert dense.reshaped_reads(from_input=True) == [(main, 0)]
    assert dense.folds_reshapes(from_input=True)
    fold = reshape_fold(main, 0)
    assert fold.source == model[1]["ADD:3"].root.results[0]
    # k (d3) splits into h, w, c (d3, d4, d5): 6 loops, 3 of them reduced.
    assert [str(m) for m in fold.maps] == [
        "(d0, d1, d2, d3, d4, d5) -> (d0, d3, d4, d5)",
        "(d0, d1, d2, d3, d4, d5) -> (d0, d3, d4, d5, d2)",
        "(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)",
    ]
    assert fold.iterators == ["parallel"] * 3 + ["reduction"] * 3
    # The 1x36x5 weights (operand 1) expand to 1x3x3x4x5.
    assert fold.expansions == {1: ([[0], [1, 2, 3], [4]], [1, 3, 3, 4, 5])}


def test_dense_reshapes_and_the_channel_axis(model):
    """The flatten changes the innermost axis; adding and dropping the unit batch dim keeps it."""
    dense = model[1]["FULLY_CONNECTED:4"]
    collapse, expand, *_, drop = dense.ops
    # 1x3x3x4 -> 1x36: 4 != 36. 1x36 -> 1x1x36 and 1x1x5 -> 1x5 keep it.
    assert [dense.axes.keeps_channel(op) for op in (collapse, expand, drop)] == [False, True, True]


HAND = """
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#rows = affine_map<(d0, d1) -> (d0)>
#hsum = affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>
func.func @f(%x: tensor<1x2x2x4xf32>, %idx: tensor<3xindex>, %v: tensor<1x4xf32>) -> tensor<1x1x2x4xf32> {
  %table = arith.constant dense<1.0> : tensor<10x4xf32> loc(unknown)
  %e16 = tensor.empty() : tensor<1x16xf32> loc(unknown)
  %e34 = tensor.empty() : tensor<3x4xf32> loc(unknown)
  %e114 = tensor.empty() : tensor<1x1x4xf32> loc(unknown)
  %e1124 = tensor.empty() : tensor<1x1x2x4xf32> loc(unknown)
  %e11 = tensor.empty() : tensor<1x1xf32> loc(unknown)
  %flat = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<1x2x2x4xf32> into tensor<1x16xf32> loc("RELU:0")
  %relu = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%flat : tensor<1x16xf32>) outs(%e16 : tensor<1x16xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    %z = arith.constant 0.0 : f32 loc(unknown)
    %m = arith.maximumf %a, %z : f32 loc(unknown)
    linalg.yield %m : f32 loc(unknown)
  } -> tensor<1x16xf32> loc("RELU:0")
  %rows = linalg.generic {indexing_maps = [#rows, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%idx : tensor<3xindex>) outs(%e34 : tensor<3x4xf32>) {
  ^bb0(%i: index loc(unknown), %o: f32 loc(unknown)):
    %c = linalg.index 1 : index loc(unknown)
    %t = tensor.extract %table[%i, %c] : tensor<10x4xf32> loc(unknown)
    linalg.yield %t : f32 loc(unknown)
  } -> tensor<3x4xf32> loc("GATHER:1")
  %row = tensor.expand_shape %v [[0, 1], [2]] output_shape [1, 1, 4]
      : tensor<1x4xf32> into tensor<1x1x4xf32> loc("RESHAPE:2")
  %scaled = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%row : tensor<1x1x4xf32>) outs(%e114 : tensor<1x1x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    %s = arith.addf %a, %a : f32 loc(unknown)
    linalg.yield %s : f32 loc(unknown)
  } -> tensor<1x1x4xf32> loc("MUL:3")
  %sum = linalg.generic {indexing_maps = [#id4, #hsum],
                         iterator_types = ["parallel", "reduction", "parallel", "parallel"]}
      ins(%x : tensor<1x2x2x4xf32>) outs(%e1124 : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    %s = arith.addf %o, %a : f32 loc(unknown)
    linalg.yield %s : f32 loc(unknown)
  } -> tensor<1x1x2x4xf32> loc("SUM:4")
  %unnamed = linalg.generic {indexing_maps = [#id4, #id4],
                             iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sum : tensor<1x1x2x4xf32>) outs(%e1124 : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    linalg.yield %a : f32 loc(unknown)
  } -> tensor<1x1x2x4xf32> loc(unknown)
  %again = linalg.generic {indexing_maps = [#id4, #id4],
                           iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%unnamed : tensor<1x1x2x4xf32>) outs(%e1124 : tensor<1x1x2x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    linalg.yield %a : f32 loc(unknown)
  } -> tensor<1x1x2x4xf32> loc("SUM:4")
  %drop = tensor.collapse_shape %e114 [[0, 1, 2]] : tensor<1x1x4xf32> into tensor<4xf32> loc(unknown)
  %scalar = tensor.collapse_shape %e11 [] : tensor<1x1xf32> into tensor<f32> loc(unknown)
  %rows2 = linalg.generic {indexing_maps = [#rows, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%idx : tensor<3xindex>) outs(%e34 : tensor<3x4xf32>) {
  ^bb0(%i: index loc(unknown), %o: f32 loc(unknown)):
    %c = linalg.index 1 : index loc(unknown)
    %t = tensor.extract %table[%i, %c] : tensor<10x4xf32> loc(unknown)
    linalg.yield %t : f32 loc(unknown)
  } -> tensor<3x4xf32> loc("GATHER:5")
  %doubled = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%rows2 : tensor<3x4xf32>) outs(%e34 : tensor<3x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    %s = arith.addf %a, %a : f32 loc(unknown)
    linalg.yield %s : f32 loc(unknown)
  } -> tensor<3x4xf32> loc("GATHER:5")
  %e14 = tensor.empty() : tensor<1x4xf32> loc(unknown)
  %e18 = tensor.empty() : tensor<1x8xf32> loc(unknown)
  %dequantized = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%v : tensor<1x4xf32>) outs(%e14 : tensor<1x4xf32>) {
  ^bb0(%a: f32 loc(unknown), %o: f32 loc(unknown)):
    %s = arith.addf %a, %a : f32 loc(unknown)
    linalg.yield %s : f32 loc(unknown)
  } -> tensor<1x4xf32> loc("RESIZE:6")
  %upsampled = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%e18 : tensor<1x8xf32>) {
  ^bb0(%o: f32 loc(unknown)):
    %c0 = arith.constant 0 : index loc(unknown)
    %c2 = arith.constant 2 : index loc(unknown)
    %j = linalg.index 1 : index loc(unknown)
    %n = arith.divui %j, %c2 : index loc(unknown)
    %t = tensor.extract %dequantized[%c0, %n] : tensor<1x4xf32> loc(unknown)
    linalg.yield %t : f32 loc(unknown)
  } -> tensor<1x8xf32> loc("RESIZE:6")
  return %again : tensor<1x1x2x4xf32> loc(unknown)
}
"""


@pytest.fixture(scope="module")
def hand():
    """(function body, its ops, {name: Kernel}) of HAND. Ops 0-5 are the
    constant and the empty tensors, 6 the flatten, 7 the relu, 8 the gather,
    9 the expand, 10 its reader, 11 the sum, 12 the unnamed copy, 13 the
    named one, 14 and 15 the unnamed collapses, 16 and 17 a gather and a
    doubling, one kernel, 18 and 19 empty tensors, 20 and 21 a doubling and
    an upsampling reading it in its body, one kernel."""
    with make_context(), ir.Location.unknown():
        module = ir.Module.parse(HAND)
        block = function_body(module.operation)
        yield block, [op.operation for op in block.operations], {k.name: k for k in kernels_of(block)}


def test_kernels_group_by_location_name(hand):
    """Ops join the kernel of their NameLoc, even apart; ops without one join none."""
    _, ops, kernels = hand
    assert list(kernels) == ["RELU:0", "GATHER:1", "RESHAPE:2", "MUL:3", "SUM:4", "GATHER:5", "RESIZE:6"]
    assert kernels["RELU:0"].ops == [ops[6], ops[7]]
    # SUM:4: the sum and the copy after the unnamed one.
    assert kernels["SUM:4"].ops == [ops[11], ops[13]]
    assert kernels["SUM:4"].root == ops[13]
    assert ops[12] not in [op for k in kernels.values() for op in k.ops]


def test_gather_splits_output_only(hand):
    """A gather (indices without a channel axis, a table read in the body)
    computes any slice of output channels from its whole input."""
    gather = hand[2]["GATHER:1"]
    assert gather.main is None and not gather.mixes_channels()
    assert gather.splits_output_only()
    # Its input's last axis is the row, not the channel.
    assert not gather.channelwise()


def test_gather_with_more_generics_does_not_split_output_only(hand):
    """The output-only split of a gather needs the kernel to be that one generic."""
    kernel = hand[2]["GATHER:5"]
    assert [op.name for op in kernel.ops] == ["linalg.generic"] * 2
    assert not kernel.splits_output_only()


def test_a_value_read_in_a_members_body_stays_inside(hand):
    """The upsampling reads the doubling through a tensor.extract in its
    body: one output, no consumer (the cost model would give the doubled
    value a buffer of its own, dead as soon as written)."""
    _, ops, kernels = hand
    resize = kernels["RESIZE:6"]
    assert resize.ops == [ops[20], ops[21]]
    assert resize.outputs() == [ops[21].results[0]]
    assert resize.consumers() == []


def test_flatten_in_front_of_an_elementwise_kernel(hand):
    """A relu reading a flatten: not channel-wise (the flatten moves the
    channel axis), not spatial, and the flatten cannot fold: the split dim
    is one the output indexes."""
    relu = hand[2]["RELU:0"]
    assert not relu.channelwise()
    assert not relu.spatial()
    assert not relu.splits_output_only()
    assert reshape_fold(relu.ops[1], 0) is None


def test_unit_dim_reshape_folds_into_its_reader(hand):
    """A generic reading an expand 1x4 -> 1x1x4 reads the 1x4 source with
    the unit dim's loop dropped from its map."""
    block, _, kernels = hand
    scaled = kernels["MUL:3"].ops[0]
    fold = reshape_fold(scaled, 0)
    assert fold.source == block.arguments[2]
    # Source dims (1, 4) read (d0, d2); nothing splits.
    assert [str(m) for m in fold.maps] == ["(d0, d1, d2) -> (d0, d2)", "(d0, d1, d2) -> (d0, d1, d2)"]
    assert fold.iterators == ["parallel"] * 3
    assert fold.expansions == {}


def test_reshape_only_kernel_is_not_channelwise(hand):
    """A kernel of reshapes alone computes nothing: not channel-wise."""
    reshape = hand[2]["RESHAPE:2"]
    assert reshape.axes.keeps_channel(reshape.ops[0])
    assert not reshape.channelwise()


def test_reduction_over_rows_is_channelwise_but_not_spatial(hand):
    """A sum over H keeps channels apart but does not map rows window by window."""
    total = hand[2]["SUM:4"]
    assert total.channelwise()
    assert not total.spatial()
    assert not total.mixes_channels()


def test_keeps_channel_on_unit_dims(hand):
    """Dropping unit dims keeps the channel axis, unless none is left."""
    _, ops, kernels = hand
    axes = next(iter(kernels.values())).axes
    drop, scalar = ops[14], ops[15]
    assert [op.name for op in (drop, scalar)] == ["tensor.collapse_shape"] * 2
    # 1x1x4 -> 4 keeps the 4; 1x1 -> a rank-0 scalar has no channel axis.
    assert axes.keeps_channel(drop)
    assert not axes.keeps_channel(scalar)
