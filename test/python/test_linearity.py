"""Linearity on partial sums (fdt_mlir/analysis/linearity.py) on hand-written linalg.

Each function takes the partial sum as its first argument `%ps`; the ops
checked are the function's ops in program order, without its return. The
preamble (`tensor.empty`, three constants) takes positions 0 to 3, so the
first op after it is at position 4.
"""

import pytest
from mlir import ir

from fdt_mlir.analysis.kernels import function_body, kernels_of
from fdt_mlir.analysis.linearity import Gates, NotLinear, is_zero_fill, partial_sum_chain, partial_sum_gates
from fdt_mlir.dialect import make_context

MAPS = """
#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>
#first = affine_map<(d0) -> (0)>
"""

PREAMBLE = """
  %e = tensor.empty() : tensor<4xf32>
  %c0 = arith.constant 0.0 : f32
  %c2 = arith.constant 2.0 : f32
  %true = arith.constant true
"""
FIRST = 4  # the position of the first op after PREAMBLE


def _elementwise(name, ins, body, result="tensor<4xf32>"):
    """A 1-D generic over 4 elements: `ins` are (value, type) pairs, named
    %a, %b, ... in the body, whose output argument is %o; `body` ends with
    the value it yields, after a '->'."""
    maps = ", ".join("#scalar" if t == "f32" else "#id" for _, t in ins)
    args = ", ".join(f"%{chr(97 + i)}: f32" for i in range(len(ins)))
    *lines, yielded = body.split("->")
    return f"""
  {name} = linalg.generic {{indexing_maps = [{maps}, #id], iterator_types = ["parallel"]}}
      ins({", ".join(v for v, _ in ins)} : {", ".join(t for _, t in ins)}) outs(%e : {result}) {{
  ^bb0({args}, %o: f32):
    {"".join(lines)}
    linalg.yield {yielded.strip()} : f32
  }} -> {result}"""


def _function(ops, result):
    return f"""{MAPS}
func.func @f(%ps: tensor<4xf32>, %bias: tensor<4xf32>, %k: f32) -> tensor<4xf32> {{
{PREAMBLE}
{ops}
  return {result} : tensor<4xf32>
}}"""


@pytest.fixture
def parse():
    """Parses a function (in a context alive for the whole test) into (its
    ops without the return, its partial-sum argument)."""
    with make_context(), ir.Location.unknown():

        def parse(text):
            module = ir.Module.parse(text)
            parse.modules.append(module)  # keeps the IR alive
            block = function_body(module.operation)
            ops = [op.operation for op in block.operations][:-1]
            return ops, block.arguments[0]

        parse.modules = []
        yield parse


def _gates(parse, body, ins=(("%ps", "tensor<4xf32>"), ("%bias", "tensor<4xf32>"))):
    ops, source = parse(_function(_elementwise("%r", ins, body), "%r"))
    return partial_sum_gates(ops, source)


@pytest.mark.parametrize(
    "body, gate",
    [
        # ps + bias: the bias (operand 1 of body op 0) is added by the first partition only.
        ("%s = arith.addf %a, %b : f32 -> %s", (0, 1)),
        # bias + ps: the same, on operand 0.
        ("%s = arith.addf %b, %a : f32 -> %s", (0, 0)),
        # ps - bias and bias - ps: subtraction is additive too.
        ("%s = arith.subf %a, %b : f32 -> %s", (0, 1)),
        ("%s = arith.subf %b, %a : f32 -> %s", (0, 0)),
    ],
)
def test_constant_term_of_an_addition_is_gated(parse, body, gate):
    """An added or subtracted constant gets a gate: (body op, operand)."""
    assert _gates(parse, body) == {FIRST: Gates(body=[gate], inits=[])}


def test_gate_indexes_the_body_op_that_adds(parse):
    """The body op index counts the ops before the addition (a scaling)."""
    # op 0: ps * 2 (linear, no gate); op 1: (ps * 2) + bias: gate on operand 1.
    body = "%m = arith.mulf %a, %c2 : f32\n    %s = arith.addf %m, %b : f32 -> %s"
    assert _gates(parse, body) == {FIRST: Gates(body=[(1, 1)], inits=[])}


@pytest.mark.parametrize(
    "body, ins",
    [
        # A constant from outside the body: 2 * (a1 + a2) = 2 * a1 + 2 * a2.
        ("%s = arith.mulf %a, %c2 : f32 -> %s", (("%ps", "tensor<4xf32>"),)),
        ("%s = arith.mulf %c2, %a : f32 -> %s", (("%ps", "tensor<4xf32>"),)),
        # A per-element constant (an input tensor) and a scalar input.
        ("%s = arith.mulf %a, %b : f32 -> %s", (("%ps", "tensor<4xf32>"), ("%bias", "tensor<4xf32>"))),
        ("%s = arith.mulf %b, %a : f32 -> %s", (("%ps", "tensor<4xf32>"), ("%k", "f32"))),
        # Division by a constant and negation.
        ("%s = arith.divf %a, %c2 : f32 -> %s", (("%ps", "tensor<4xf32>"),)),
        ("%s = arith.negf %a : f32 -> %s", (("%ps", "tensor<4xf32>"),)),
        # A pure copy.
        ("-> %a", (("%ps", "tensor<4xf32>"),)),
    ],
)
def test_scaling_is_linear_without_gates(parse, body, ins):
    """Scaling, division by a constant and negation need no gate."""
    assert _gates(parse, body, ins) == {FIRST: Gates()}


@pytest.mark.parametrize(
    "body, what",
    [
        # relu: max(a1 + a2, 0) != max(a1, 0) + max(a2, 0).
        ("%s = arith.maximumf %a, %c0 : f32 -> %s", "arith.maximumf"),
        # ps * ps: quadratic.
        ("%s = arith.mulf %a, %a : f32 -> %s", "arith.mulf"),
        # 2 / ps: the partial sum is the divisor.
        ("%s = arith.divf %c2, %a : f32 -> %s", "arith.divf"),
        # A comparison (feeding a select) is not linear either.
        ("%p = arith.cmpf ogt, %a, %c0 : f32\n    %s = arith.select %p, %a, %c0 : f32 -> %s", "arith.cmpf"),
        ("%s = math.exp %a : f32 -> %s", "math.exp"),
    ],
)
def test_non_linear_body_op_is_named(parse, body, what):
    """NotLinear names the body op and carries the generic holding it."""
    ops, source = parse(_function(_elementwise("%r", [("%ps", "tensor<4xf32>")], body), "%r"))
    with pytest.raises(NotLinear) as caught:
        partial_sum_gates(ops, source)
    assert caught.value.args[0] == what
    assert caught.value.args[1] == ops[FIRST]


@pytest.mark.parametrize(
    "body, gate",
    [
        # select(true, ps, bias): the constant arm (operand 2) is gated.
        ("%s = arith.select %true, %a, %b : f32 -> %s", [(0, 2)]),
        # select(true, bias, ps): operand 1.
        ("%s = arith.select %true, %b, %a : f32 -> %s", [(0, 1)]),
        # Both arms carry partial sums: nothing to gate.
        ("%n = arith.negf %a : f32\n    %s = arith.select %true, %a, %n : f32 -> %s", []),
    ],
)
def test_select_on_a_constant_condition_gates_its_constant_arm(parse, body, gate):
    """A select whose condition is constant is linear in its arms."""
    assert _gates(parse, body) == {FIRST: Gates(body=gate, inits=[])}


def test_result_that_ignores_the_partial_sum_is_not_linear(parse):
    """A generic reading the partial sum but yielding a constant is rejected."""
    ins = [("%ps", "tensor<4xf32>"), ("%bias", "tensor<4xf32>")]
    ops, source = parse(_function(_elementwise("%r", ins, "-> %b"), "%r"))
    with pytest.raises(NotLinear) as caught:
        partial_sum_gates(ops, source)
    assert caught.value.args == ("a result that does not depend on the partial sums", ops[FIRST])


def test_every_result_must_depend_on_the_partial_sum(parse):
    """A generic with two results, one of them the constant input alone, is rejected."""
    ops = """
  %r:2 = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel"]}
      ins(%ps, %bias : tensor<4xf32>, tensor<4xf32>) outs(%e, %e : tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32, %p: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s, %b : f32, f32
  } -> (tensor<4xf32>, tensor<4xf32>)"""
    ops, source = parse(_function(ops, "%r#0"))
    with pytest.raises(NotLinear) as caught:
        partial_sum_gates(ops, source)
    assert caught.value.args == ("a result that does not depend on the partial sums", ops[FIRST])


def test_partial_sums_flow_through_a_chain_and_skip_constant_ops(parse):
    """Ops reading an op that carries partial sums carry them too; ops that
    read none (a fill) are absent from the result."""
    t = "tensor<4xf32>"
    ops = "\n".join(
        [
            _elementwise("%r0", [("%ps", t), ("%bias", t)], "%s = arith.addf %a, %b : f32 -> %s"),
            _elementwise("%fill", [("%c2", "f32")], "-> %a"),
            _elementwise("%r1", [("%fill", t), ("%r0", t)], "%s = arith.mulf %a, %b : f32 -> %s"),
            _elementwise("%r2", [("%r1", t), ("%bias", t)], "%s = arith.subf %b, %a : f32 -> %s"),
        ]
    )
    found = partial_sum_gates(*parse(_function(ops, "%r2")))
    # r0 (position 4): ps + bias, gated; the fill (5) reads no partial sum;
    # r1 (6): fill * r0, a scaling; r2 (7): bias - r1, gated on operand 0.
    assert found == {4: Gates(body=[(0, 1)]), 6: Gates(), 7: Gates(body=[(0, 0)])}


def _accumulation(init):
    """A sum of ps over its 4 elements into a tensor<1xf32> that starts from `init`."""
    return f"""
  %acc = linalg.generic {{indexing_maps = [#id, #first], iterator_types = ["reduction"]}}
      ins(%ps : tensor<4xf32>) outs({init} : tensor<1xf32>) {{
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  }} -> tensor<1xf32>"""


def _sum_function(ops):
    return f"""{MAPS}
func.func @f(%ps: tensor<4xf32>, %k: f32) -> tensor<1xf32> {{
{PREAMBLE}
  %e1 = tensor.empty() : tensor<1xf32>
  %zero1 = arith.constant dense<0.0> : tensor<1xf32>
  %one1 = arith.constant dense<1.0> : tensor<1xf32>
{ops}
  return %acc : tensor<1xf32>
}}"""


def _fill(name, scalar):
    return f"""
  {name} = linalg.generic {{indexing_maps = [#scalar, #id], iterator_types = ["parallel"]}}
      ins({scalar} : f32) outs(%e1 : tensor<1xf32>) {{
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }} -> tensor<1xf32>"""


@pytest.mark.parametrize(
    "init, fill, inits",
    [
        # Starting from a fill with 0.0 or a zero constant: nothing to gate.
        ("%f", _fill("%f", "%c0"), []),
        ("%zero1", "", []),
        # From a fill with %k (unknown) or a constant 1.0: the init, operand 1
        # of the accumulation (after its one input), is added once.
        ("%f", _fill("%f", "%k"), [1]),
        ("%one1", "", [1]),
    ],
)
def test_accumulation_gates_a_non_zero_init(parse, init, fill, inits):
    """An accumulation starting from a non-zero init gates the init."""
    ops, source = parse(_sum_function(fill + _accumulation(init)))
    # The preamble (0-3) and %e1, %zero1, %one1 (4-6); a fill takes 7.
    position = 8 if fill else 7
    assert partial_sum_gates(ops, source) == {position: Gates(body=[], inits=inits)}


@pytest.mark.parametrize("value, linear", [("%c0", True), ("%c2", False)])
def test_pad_must_pad_with_zero(parse, value, linear):
    """A pad of the partial sum is linear only with a zero padding value."""
    pad = f"""
  %r = tensor.pad %ps low[1] high[1] {{
  ^bb0(%i: index):
    tensor.yield {value} : f32
  }} : tensor<4xf32> to tensor<6xf32>"""
    ops, source = parse(_function(pad, "%ps"))
    if linear:
        assert partial_sum_gates(ops, source) == {FIRST: Gates()}
    else:
        with pytest.raises(NotLinear) as caught:
            partial_sum_gates(ops, source)
        assert caught.value.args == ("a pad with a non-zero value", ops[FIRST])


def test_reshapes_pass_partial_sums_on(parse):
    """A reshape carries partial sums without gates; a generic reading it carries them too."""
    ops = """
  %x = tensor.expand_shape %ps [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  %y = tensor.collapse_shape %x [[0, 1]] : tensor<1x4xf32> into tensor<4xf32>""" + _elementwise(
        "%r", [("%y", "tensor<4xf32>"), ("%bias", "tensor<4xf32>")], "%s = arith.addf %a, %b : f32 -> %s"
    )
    found = partial_sum_gates(*parse(_function(ops, "%r")))
    # expand (4), collapse (5), then the bias add (6) gated on operand 1.
    assert found == {4: Gates(), 5: Gates(), 6: Gates(body=[(0, 1)])}


def test_other_ops_are_not_linear(parse):
    """An op that is neither a generic, a pad nor a reshape is rejected by name."""
    ops = "  %r = tensor.extract_slice %ps[0] [2] [1] : tensor<4xf32> to tensor<2xf32>"
    ops, source = parse(_function(ops, "%ps"))
    with pytest.raises(NotLinear) as caught:
        partial_sum_gates(ops, source)
    assert caught.value.args == ("tensor.extract_slice", ops[FIRST])


@pytest.mark.parametrize(
    "name, zero",
    [
        ("%zero_splat", True),  # dense<0.0>
        ("%one_splat", False),  # dense<1.0>
        ("%zero_int", True),  # dense<0> : tensor<4xi32>
        ("%zero_fill", True),  # fill from the scalar 0.0
        ("%zero_yield", True),  # yields a 0.0 defined outside the body
        ("%two_fill", False),  # fill from the scalar 2.0
        ("%arg_fill", False),  # fill from an unknown scalar (a function argument)
        ("%ps", False),  # a function argument
    ],
)
def test_is_zero_fill(parse, name, zero):
    """Zero constants and fills of zero count as zero fills; nothing else does."""
    text = f"""{MAPS}
func.func @f(%ps: tensor<4xf32>, %k: f32) -> tensor<4xf32> {{
{PREAMBLE}
  %zero_splat = arith.constant dense<0.0> : tensor<4xf32>
  %one_splat = arith.constant dense<1.0> : tensor<4xf32>
  %zero_int = arith.constant dense<0> : tensor<4xi32>
{_elementwise("%zero_fill", [("%c0", "f32")], "-> %a")}
{_elementwise("%zero_yield", [("%ps", "tensor<4xf32>")], "-> %c0")}
{_elementwise("%two_fill", [("%c2", "f32")], "-> %a")}
{_elementwise("%arg_fill", [("%k", "f32")], "-> %a")}
  return %ps : tensor<4xf32>
}}"""
    ops, source = parse(text)
    names = ["%zero_splat", "%one_splat", "%zero_int", "%zero_fill", "%zero_yield", "%two_fill", "%arg_fill"]
    values = {"%ps": source, **dict(zip(names, (op.results[0] for op in ops[FIRST:])))}
    assert is_zero_fill(values[name]) is zero


KERNELS = """
#mm_in = affine_map<(m, n, k) -> (m, k)>
#mm_w = affine_map<(m, n, k) -> (k, n)>
#mm_out = affine_map<(m, n, k) -> (m, n)>
#id2 = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (n)>
#sum = affine_map<(m, n) -> (m, 0)>
#scalar2 = affine_map<(m, n) -> ()>
func.func @f(%x: tensor<1x8xf32>, %w: tensor<8x4xf32>, %bias: tensor<4xf32>) -> tensor<1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %four = arith.constant 4.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %e1 = tensor.empty() : tensor<1x1xf32>
  %fill = linalg.generic {indexing_maps = [#scalar2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%zero : f32) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x4xf32> loc("FULLY_CONNECTED:0")
  %mm = linalg.generic {indexing_maps = [#mm_in, #mm_w, #mm_out],
                        iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x8xf32>, tensor<8x4xf32>) outs(%fill : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32> loc("FULLY_CONNECTED:0")
  %biased = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<1x4xf32>, tensor<4xf32>) outs(%e : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x4xf32> loc("FULLY_CONNECTED:0")
  %mfill = linalg.generic {indexing_maps = [#scalar2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%zero : f32) outs(%e1 : tensor<1x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<1x1xf32> loc("MEAN:1")
  %total = linalg.generic {indexing_maps = [#id2, #sum], iterator_types = ["parallel", "reduction"]}
      ins(%biased : tensor<1x4xf32>) outs(%mfill : tensor<1x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  } -> tensor<1x1xf32> loc("MEAN:1")
  %mean = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%total : tensor<1x1xf32>) outs(%e1 : tensor<1x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.divf %a, %four : f32
    linalg.yield %s : f32
  } -> tensor<1x1xf32> loc("MEAN:1")
  return %mean : tensor<1x1xf32>
}
"""


def test_partial_sum_chain_of_a_dense_layer_and_a_mean(parse):
    """The chain starts after the '>' kernel's reduction and runs through
    the '~' kernels; the bias add is gated, the mean is linear."""
    parse(KERNELS)
    block = function_body(parse.modules[0].operation)
    dense, mean = kernels_of(block)
    ops, source = partial_sum_chain(dense, [mean])
    # dense: fill, matmul (the reduction), bias add; mean: fill, sum, divide.
    assert [op.name for op in ops] == ["linalg.generic"] * 4
    assert ops == [dense.ops[2], *mean.ops]
    assert source == dense.ops[1].results[0]
    # 0: bias add, bias gated; 1: the mean's zero fill reads no partial sum;
    # 2: the sum starts from that zero fill (no init gate); 3: divide by 4.
    assert partial_sum_gates(ops, source) == {0: Gates(body=[(0, 1)]), 2: Gates(), 3: Gates()}
