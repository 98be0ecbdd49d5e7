"""safe_overlap against a brute force: a plain sequential interpreter of the
same loop nests that times every access, then tries every placement."""

import itertools
import math

import numpy as np
import pytest
from mlir import ir

from fdt_mlir import pipeline
from fdt_mlir.analysis import safe_overlap
from fdt_mlir.analysis.liveness import Liveness
from fdt_mlir.analysis.safe_overlap import rise_bound, safe_overlaps, safe_shift, shift_bound
from fdt_mlir.analysis.sizes import byte_size, element_count
from fdt_mlir.dialect import make_context
from fdt_mlir.dialect.ops import REVERSIBLE_ATTR
from fdt_mlir.examples.tflite_builder import ModelBuilder
from fdt_mlir.importers.tflite import import_tflite
from fdt_mlir.rewrites.reverse_loops import reverse_loops

STAGES = pipeline.TOSA_TO_LINALG + pipeline.TILE_PATHS + pipeline.KERNELS + pipeline.BUFFERIZE

# The reference's own semantics of the index ops, in plain Python.
ARITH = {
    "arith.addi": lambda a, b: a + b,
    "arith.subi": lambda a, b: a - b,
    "arith.muli": lambda a, b: a * b,
    "arith.divsi": lambda a, b: int(a / b),
    "arith.floordivsi": lambda a, b: a // b,
    "arith.ceildivsi": lambda a, b: -(-a // b),
    "arith.remsi": lambda a, b: int(math.fmod(a, b)),
    "arith.minsi": min,
    "arith.maxsi": max,
    "arith.andi": lambda a, b: a & b,
    "arith.ori": lambda a, b: a | b,
    "arith.xori": lambda a, b: a ^ b,
    "arith.shli": lambda a, b: a << b,
    "arith.index_cast": lambda a: a,
    "arith.select": lambda c, a, b: a if c else b,
}
PREDICATES = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]


def brute_times(ops, input_root, output_root):
    """Runs `ops` one iteration at a time: (time of the last load of each
    input byte, time of the first store to each output byte). Loads from
    constant globals give their data (a gather's indices); other data is
    not needed."""
    module = ops[0].parent
    while module.name != "builtin.module":
        module = module.parent
    constants = {}
    for op in module.regions[0].blocks[0].operations:
        if op.operation.name == "memref.global" and "constant" in op.attributes:
            name = ir.StringAttr(op.attributes["sym_name"]).value
            constants[name] = np.array(ir.DenseElementsAttr(op.attributes["initial_value"])).ravel()
    clock = itertools.count()
    read = np.full(byte_size(input_root.type), -1)
    written = np.full(byte_size(output_root.type), np.iinfo(np.int64).max)
    env = {}

    def get(v):
        if v in env:
            return env[v]
        op = v.owner.operation
        attr = op.attributes["value"]
        return ir.BoolAttr(attr).value if isinstance(attr, ir.BoolAttr) else ir.IntegerAttr(attr).value

    def touch(times, root, index, pick):
        size = byte_size(root.type) // element_count(root.type)
        flat = 0
        for i, n in zip(index, ir.MemRefType(root.type).shape):
            flat = flat * n + i
        times[flat * size : (flat + 1) * size] = pick(times[flat * size : (flat + 1) * size], next(clock))

    def run(ops):
        for op in ops:
            op = op.operation
            name = op.name
            if name == "scf.for":
                body = op.regions[0].blocks[0]
                for i in range(*(get(v) for v in op.operands[:3])):
                    env[body.arguments[0]] = i
                    run(body.operations)
            elif name == "scf.if":
                taken = op.regions[0 if get(op.operands[0]) else 1].blocks[0]
                for result, value in zip(op.results, run(taken.operations)):
                    env[result] = env.get(value)
            elif name == "scf.yield":
                return list(op.operands)
            elif name == "memref.get_global":
                env[op.results[0]] = constants[ir.FlatSymbolRefAttr(op.attributes["name"]).value]
            elif name == "memref.load":
                index = [get(v) for v in op.operands[1:]]
                if op.operands[0] == input_root:
                    touch(read, input_root, index, np.maximum)
                elif isinstance(env.get(op.operands[0]), np.ndarray):
                    env[op.results[0]] = int(env[op.operands[0]][index[0]])
            elif name == "memref.store":
                if op.operands[1] == output_root:
                    touch(written, output_root, [get(v) for v in op.operands[2:]], np.minimum)
            elif name == "arith.cmpi":
                a, b = (get(v) for v in op.operands)
                pred = PREDICATES[ir.IntegerAttr(op.attributes["predicate"]).value].lstrip("su")
                env[op.results[0]] = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b}.get(
                    pred, a >= b
                )
            elif name in ARITH and all(v in env or _is_constant(v) for v in op.operands):
                env[op.results[0]] = ARITH[name](*(get(v) for v in op.operands))
            elif op.regions:
                raise NotImplementedError(name)

    run([op for op in ops[0].parent.regions[0].blocks[0].operations if op.operation.name == "memref.get_global"])
    run(ops)
    return read, written


def _is_constant(value):
    return isinstance(value.owner, ir.OpView) and value.owner.operation.name == "arith.constant"


def brute_shift(read, written):
    """The first d that overwrites an input byte before its last read, less
    one: d from -size_out (output wholly below the input) up; size_in if none."""
    out = np.arange(len(written))
    for d in range(-len(written) + 1, len(read)):
        p = out + d
        valid = (p >= 0) & (p < len(read))
        if np.any(read[p[valid]] > written[out[valid]]):
            return d - 1
    return len(read)


@pytest.fixture
def context():
    with make_context(), ir.Location.unknown():
        yield


def function_block(module):
    fn = next(op for op in module.body.operations if op.operation.name == "func.func" and op.regions[0].blocks)
    return fn.regions[0].blocks[0]


def bufferized(model: bytes, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    module = import_tflite(str(path), "m")
    pipeline.run_passes(module, STAGES)
    return module


def brute_rise(read, written):
    """The last d that overwrites an input byte before its last read, plus
    one: d from size_in (output wholly above the input) down; -size_out if none."""
    out = np.arange(len(written))
    for d in range(len(read) - 1, -len(written), -1):
        p = out + d
        valid = (p >= 0) & (p < len(read))
        if np.any(read[p[valid]] > written[out[valid]]):
            return d + 1
    return -len(written)


def check_against_brute_force(block, exact=True):
    """Every pair of safe_overlaps equals the brute force over its steps
    (D is below it and U above, not `exact`); returns [(input bytes, output
    bytes, D)]."""
    live = Liveness(block)
    found = []
    for (i, o), shifts in safe_overlaps(block).items():
        steps = live.top_ops[live.top[o][0] : live.top[i][1] + 1]
        times = brute_times(steps, i, o)
        brute = (brute_shift(*times), brute_rise(*times))
        if exact:
            assert (shifts.down, shifts.up) == brute, (i, o, shifts, brute)
        else:
            assert shifts.down < brute[0] and shifts.up > brute[1], (i, o, shifts, brute)
        found.append((byte_size(i.type), byte_size(o.type), shifts.down))
    return sorted(found)


def test_bounds_are_the_first_unsafe_placements_from_below_and_above():
    rng = np.random.default_rng(0)
    for _ in range(300):
        size_in, size_out = rng.integers(1, 12, 2)
        times = rng.permutation(size_in + size_out)
        read = times[:size_in].copy()
        read[rng.random(size_in) < 0.2] = -1
        written = times[size_in:].copy()
        written[rng.random(size_out) < 0.2] = np.iinfo(np.int64).max
        assert shift_bound(read, written) == brute_shift(read, written)
        assert rise_bound(read, written) == brute_rise(read, written)


def _weights(rng, *shape):
    return rng.normal(0, 0.3, shape).astype(np.float32)


def conv(out_channels, kernel, stride=1, padding="SAME", hw=6, channels=3, opcode="CONV_2D"):
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.input([1, hw, hw, channels], np.float32)
    out_hw = -(-hw // stride) if padding == "SAME" else (hw - kernel) // stride + 1
    depthwise = opcode == "DEPTHWISE_CONV_2D"
    shape = [1, kernel, kernel, channels] if depthwise else [out_channels, kernel, kernel, channels]
    y = b.tensor([1, out_hw, out_hw, channels if depthwise else out_channels], np.float32)
    w, bias = b.const(_weights(rng, *shape)), b.const(_weights(rng, shape[3] if depthwise else out_channels))
    # A fused activation keeps the accumulator in a scalar; without one the
    # output would be filled with the bias first (see max_pool).
    b.op(opcode, [x, w, bias], [y], padding=padding, stride=(stride, stride), activation="RELU")
    b.output(y)
    return b.finish()


def conv_int8(out_channels=3, kernel=3, hw=6, channels=3):
    """An int8 3x3 SAME conv: int32 accumulators, requantized to int8."""
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.input([1, hw, hw, channels], np.int8, scale=0.05, zero_point=-3)
    y = b.tensor([1, hw, hw, out_channels], np.int8, scale=0.1, zero_point=-128)
    weights = rng.integers(-127, 128, (out_channels, kernel, kernel, channels)).astype(np.int8)
    w = b.const(weights, scale=np.full(out_channels, 0.01), quantized_dimension=0)
    bias = b.const(rng.integers(-100, 100, out_channels).astype(np.int32), scale=np.full(out_channels, 0.0005))
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", activation="RELU")
    b.output(y)
    return b.finish()


def one_op(opcode, shapes, out_shape, **options):
    b = ModelBuilder()
    inputs = [b.input(shape, np.float32) for shape in shapes]
    y = b.tensor(out_shape, np.float32)
    b.op(opcode, inputs, [y], **options)
    b.output(y)
    return b.finish()


def fully_connected():
    rng = np.random.default_rng(2)
    b = ModelBuilder()
    x = b.input([1, 12], np.float32)
    y = b.tensor([1, 5], np.float32)
    b.op("FULLY_CONNECTED", [x, b.const(_weights(rng, 5, 12)), b.const(_weights(rng, 5))], [y])
    b.output(y)
    return b.finish()


def gather():
    b = ModelBuilder()
    x = b.input([5, 8], np.float32)
    y = b.tensor([5, 4], np.float32)
    b.op("GATHER", [x, b.const(np.array([6, 1, 3, 0], np.int32))], [y], axis=1)
    b.output(y)
    return b.finish()


# (model, [(input bytes, output bytes, D)]); every D also equals the brute
# force (the gather's is below it).
MODELS = {
    # Elementwise: each output element replaces the input element it reads.
    "relu": (lambda: one_op("RELU", [[1, 4, 4, 3]], [1, 4, 4, 3]), [(192, 192, 0)]),
    # Residual add: either input may hold the output.
    "add": (lambda: one_op("ADD", [[1, 4, 4, 3], [1, 4, 4, 3]], [1, 4, 4, 3]), [(192, 192, 0)] * 2),
    # 3x3 SAME (padding guards), 6x6x3: an output pixel is stored once the
    # input row below it and the next pixel are read (72 + 12 B), channel by
    # channel, each channel reading the window again (8 B more).
    "conv3x3": (lambda: conv(3, 3), [(432, 432, -92)]),
    # Channel k reads input channel k only: a row and a pixel.
    "depthwise3x3": (lambda: conv(3, 3, opcode="DEPTHWISE_CONV_2D"), [(432, 432, -84)]),
    "conv3x3_int8": (conv_int8, [(108, 108, -23)]),
    # Twice as large as the input: mostly below it.
    "conv1x1_expand": (lambda: conv(6, 1, padding="VALID"), [(432, 864, -440)]),
    # A third as large; output channel 0 is stored before channel 1 reads
    # the input pixel again.
    "conv1x1_contract": (lambda: conv(2, 1, padding="VALID", channels=6), [(864, 288, -4)]),
    "conv_stride2": (lambda: conv(3, 3, stride=2), [(432, 108, -8)]),
    # The output is filled before the pool reads anything: no overlap.
    "max_pool": (
        lambda: one_op("MAX_POOL_2D", [[1, 6, 6, 2]], [1, 3, 3, 2], filter_size=(2, 2), stride=(2, 2)),
        [(288, 72, -72)],
    ),
    # Every output reads the whole input: only the last one may cover it.
    "fully_connected": (fully_connected, [(48, 20, -16)]),
    # Indices from a constant: a load gives them, so every read is of the
    # whole input then; only the last store comes after the last of them.
    "gather": (gather, [(160, 80, -76)]),
    # A tile loop: per row, the sum of squares, then the row divided by its
    # root; the row is read in full before any of it is written.
    "l2_normalization": (lambda: one_op("L2_NORMALIZATION", [[1, 2, 3, 7]], [1, 2, 3, 7]), [(168, 168, 0)]),
}


@pytest.mark.parametrize("name", MODELS)
def test_compiled_operator_matches_brute_force(name, context, tmp_path):
    build, expected = MODELS[name]
    module = bufferized(build(), tmp_path)
    if name == "l2_normalization":
        assert Liveness(function_block(module)).loops
    found = check_against_brute_force(function_block(module), exact=name != "gather")
    assert found == expected


@pytest.mark.parametrize("name", ["conv3x3", "depthwise3x3", "conv_stride2", "max_pool", "l2_normalization"])
def test_loops_split_into_chunks_give_the_same_shift(name, context, tmp_path, monkeypatch):
    """Iterations expanded a few at a time (chunks that end inside a row's
    iterations, and rows with none) keep their time order."""
    build, expected = MODELS[name]
    monkeypatch.setattr(safe_overlap, "CHUNK", 7)
    assert check_against_brute_force(function_block(bufferized(build(), tmp_path))) == expected


def elementwise(load, store, middle, n=16):
    """A bufferized loop over n elements: in[i] -> out[i] through `middle`."""
    return f"""
    func.func private @ext(memref<{n}x{load}>)
    func.func @f(%in: memref<{n}x{load}>) -> memref<{n}x{store}> {{
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %n = arith.constant {n} : index
      %out = memref.alloc() : memref<{n}x{store}>
      scf.for %i = %c0 to %n step %c1 {{
        %j = arith.addi %i, %c0 : index
        %x = memref.load %in[%j] : memref<{n}x{load}>
        {middle}
        memref.store %y, %out[%i] : memref<{n}x{store}>
      }}
      return %out : memref<{n}x{store}>
    }}"""


TEXT = {
    # int8 in, int32 out: out[i]'s 4 bytes may cover only inputs read by
    # then, and past the input's end nothing constrains them.
    "widen": (elementwise("i8", "i32", "%y = arith.extsi %x : i8 to i32"), -45),
    # int32 in, int8 out: the output may start 3 bytes above the input.
    "narrow": (elementwise("i32", "i8", "%y = arith.trunci %x : i32 to i8"), 3),
    "float": (elementwise("f32", "f32", "%y = arith.negf %x : f32"), 0),
}


def parsed(text):
    module = ir.Module.parse(text)
    fn = next(op for op in module.body.operations if op.regions[0].blocks)
    block = fn.regions[0].blocks[0]
    loop = next(op for op in block.operations if op.operation.name == "scf.for")
    alloc = next(op for op in block.operations if op.operation.name == "memref.alloc")
    return module, loop, block.arguments[0], alloc.results[0]


@pytest.mark.parametrize("name", TEXT)
def test_loop_matches_brute_force(name, context):
    text, expected = TEXT[name]
    module, loop, x, y = parsed(text)
    shift = safe_shift(loop, x, y).down
    assert shift == expected == brute_shift(*brute_times([loop], x, y))
    assert {k: v.down for k, v in safe_overlaps(function_block(module)).items()} == {(x, y): expected}


def test_unmodelled_index_reads_the_whole_input(context):
    """arith.shli is not modelled: every load reads all of the input, so
    only the last store may overlap it (the brute force knows better)."""
    text = elementwise("f32", "f32", "%y = arith.negf %x : f32").replace("arith.addi %i, %c0", "arith.shli %i, %c0")
    module, loop, x, y = parsed(text)
    assert safe_shift(loop, x, y).down == -60
    assert brute_shift(*brute_times([loop], x, y)) == 0


def test_load_through_a_view_reads_the_whole_input(context):
    view = """%v = memref.subview %in[0] [16] [1] : memref<16xf32> to memref<16xf32, strided<[1]>>
        %w = memref.load %v[%i] : memref<16xf32, strided<[1]>>
        %y = arith.addf %x, %w : f32"""
    module, loop, x, y = parsed(elementwise("f32", "f32", view))
    assert safe_shift(loop, x, y).down == -60


GUARDED = """%zero = arith.constant 0.0 : f32
        %positive = arith.cmpf ogt, %x, %zero : f32
        %y = scf.if %positive -> (f32) {{
          {then}
        }} else {{
          {other}
        }}"""
READ = "%l = memref.load %in[{}] : memref<16xf32>\n scf.yield %l : f32"


@pytest.mark.parametrize(
    "then, other", [(READ.format("%c0"), "scf.yield %x : f32"), ("scf.yield %x : f32", READ.format("%c0"))]
)
def test_unknown_condition_runs_both_branches(then, other, context):
    module, loop, x, y = parsed(elementwise("f32", "f32", GUARDED.format(then=then, other=other)))
    # in[0] may be read at the last step: only the last output covers it.
    assert safe_shift(loop, x, y).down == -60


def test_guarded_index_out_of_the_buffer_reads_all_of_it(context):
    """Under an unknown condition in[i + 16] may be read: not in[16 + i],
    which does not exist, but anything, as far as the analysis knows."""
    then = "%c16 = arith.constant 16 : index\n %k = arith.addi %i, %c16 : index\n" + READ.format("%k")
    module, loop, x, y = parsed(elementwise("f32", "f32", GUARDED.format(then=then, other="scf.yield %x : f32")))
    assert safe_shift(loop, x, y).down == -60


def test_loop_with_unknown_bounds_writes_before_it_reads(context):
    text = """
    func.func @f(%in: memref<16xf32>, %n: memref<1xindex>) -> memref<16xf32> {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %out = memref.alloc() : memref<16xf32>
      %end = memref.load %n[%c0] : memref<1xindex>
      scf.for %i = %c0 to %end step %c1 {
        %x = memref.load %in[%i] : memref<16xf32>
        memref.store %x, %out[%i] : memref<16xf32>
      }
      return %out : memref<16xf32>
    }"""
    module, loop, x, y = parsed(text)
    assert safe_shift(loop, x, y).down == -64


@pytest.mark.parametrize(
    "writes",
    ["func.call @ext(%in) : (memref<16xf32>) -> ()", "memref.store %x, %in[%c0] : memref<16xf32>"],
)
def test_an_op_that_may_write_the_input_allows_no_overlap(writes, context):
    module, loop, x, y = parsed(elementwise("f32", "f32", writes + "\n %y = arith.negf %x : f32"))
    assert safe_shift(loop, x, y).down == -64
    # Without it: output at the input.
    module, loop, x, y = parsed(elementwise("f32", "f32", "%y = arith.negf %x : f32"))
    assert safe_shift(loop, x, y).down == 0


def test_unmodelled_op_on_the_output_writes_it_first(context):
    middle = "func.call @ext(%out) : (memref<16xf32>) -> ()\n %y = arith.negf %x : f32"
    module, loop, x, y = parsed(elementwise("f32", "f32", middle))
    # The first call, after the first load, writes all of the output: only
    # in[0] may lie under it.
    assert safe_shift(loop, x, y).down == -60


def test_huge_induction_variables_keep_their_order(context):
    """Steps of 2^40: the access times outgrow 64 bits unless ranked again.
    A copy that reads in[0] again at step 4."""
    text = """
    func.func @f(%in: memref<16xf32>) -> memref<16xf32> {
      %c0 = arith.constant 0 : index
      %c4 = arith.constant 4 : index
      %end = arith.constant 4398046511104 : index
      %step = arith.constant 1099511627776 : index
      %out = memref.alloc() : memref<16xf32>
      scf.for %a = %c0 to %end step %step {
        scf.for %b = %c0 to %end step %step {
          %ia = arith.divsi %a, %step : index
          %ib = arith.divsi %b, %step : index
          %i0 = arith.muli %ia, %c4 : index
          %i = arith.addi %i0, %ib : index
          %x = memref.load %in[%i] : memref<16xf32>
          %fifth = arith.cmpi eq, %i, %c4 : index
          %j = arith.select %fifth, %c0, %i : index
          %again = memref.load %in[%j] : memref<16xf32>
          memref.store %x, %out[%i] : memref<16xf32>
        }
      }
      return %out : memref<16xf32>
    }"""
    module, loop, x, y = parsed(text)
    # out[4] may cover in[0], not out[0..3], stored before.
    assert safe_shift(loop, x, y).down == brute_shift(*brute_times([loop], x, y)) == -16


def test_buffer_carried_by_a_loop_allows_no_overlap(context):
    """The loop reads the input through its iter_args, which the analysis
    does not follow."""
    text = """
    func.func @f(%in: memref<16xf32>) -> memref<16xf32> {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c16 = arith.constant 16 : index
      %out = memref.alloc() : memref<16xf32>
      %r = scf.for %i = %c0 to %c16 step %c1 iter_args(%b = %in) -> (memref<16xf32>) {
        %x = memref.load %b[%i] : memref<16xf32>
        memref.store %x, %out[%i] : memref<16xf32>
        scf.yield %b : memref<16xf32>
      }
      return %out : memref<16xf32>
    }"""
    module, loop, x, y = parsed(text)
    assert safe_shift(loop, x, y).down == -64


def _by_position(block, found):
    """safe_overlaps' pairs by the positions of their buffers (arguments,
    then allocations), which two compiles of one model share."""
    roots = list(block.arguments) + [op.results[0] for op in block.operations if op.operation.name == "memref.alloc"]
    return {(roots.index(i), roots.index(o)): shifts for (i, o), shifts in found.items()}


# (model, [(input bytes, output bytes, U)]) with the reversible loops (all
# but the channels') run backwards; each U also equals the brute force on
# the rewritten loops.
BACKWARD = {
    # Pixels from the last, channels in order: a pixel's first channel
    # waits for the other two to be read, one pixel (12 B) above.
    "relu": [(192, 192, 12)],
    # Input pixel (y+1, x+1) is last read by output pixel (y, x) (a row and
    # a pixel, 84 B, above it); its channel 2 after channel 0 is stored
    # (8 B), each 4 B wide (3 more): 96.
    "depthwise3x3": [(432, 432, 96)],
    "conv3x3": [(432, 432, 96)],
    "conv1x1_expand": [(432, 864, 12)],
    "conv_stride2": [(432, 108, 336)],
}


@pytest.mark.parametrize("name", BACKWARD)
def test_backward_trace_sees_the_reversed_loops(name, context, tmp_path):
    """The trace that runs reversible loops backwards finds what the
    analysis and the brute force find on the loops that reverse_loops
    rewrote (a second compile of the model)."""
    build, _ = MODELS[name]
    model = build()
    modules = [bufferized(model, tmp_path) for _ in range(2)]
    block, rewritten = (function_block(m) for m in modules)
    backward = _by_position(block, safe_overlaps(block, backward=True))
    for op in list(rewritten.operations):
        if REVERSIBLE_ATTR in op.operation.attributes:
            reverse_loops(op)
    check_against_brute_force(rewritten)
    assert backward and backward.items() <= _by_position(rewritten, safe_overlaps(rewritten)).items()
    found = sorted((byte_size(i.type), byte_size(o.type), s.up) for (i, o), s in safe_overlaps(block, True).items())
    assert found == BACKWARD[name]
