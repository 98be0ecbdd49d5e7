"""Index expressions as linear forms in loop induction variables
(fdt_mlir/analysis/linear_index.py), on the index of the one load in a
hand-written loop nest over %i and %j, with %s a function argument (an
invariant symbol)."""

from mlir import ir

from fdt_mlir.analysis.linear_index import affine_form, linear_coefficients
from fdt_mlir.dialect import make_context
from fdt_mlir.ir_utils import ops_named


def _index_and_ivs(index_ops: str):
    """(the load's index value, [%i, %j]) for a nest whose body computes
    `index_ops`, ending in %x."""
    text = f"""
func.func @f(%m: memref<1000xi8>, %s: index) -> i8 {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c7 = arith.constant 7 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%a = %c0) -> (index) {{
    %q = scf.for %j = %c0 to %c3 step %c1 iter_args(%b = %a) -> (index) {{
      {index_ops}
      %v = memref.load %m[%x] : memref<1000xi8>
      scf.yield %x : index
    }}
    scf.yield %q : index
  }}
  %v = memref.load %m[%r] : memref<1000xi8>
  return %v : i8
}}"""
    context = make_context()
    module = ir.Module.parse(text, context)
    load = ops_named(module.operation, "memref.load")[0]
    inner = ops_named(module.operation, "scf.for")[0]
    outer = ops_named(module.operation, "scf.for")[1]
    ivs = [outer.regions[0].blocks[0].arguments[0], inner.regions[0].blocks[0].arguments[0]]
    return module, load.operands[1], ivs


def test_sums_and_constant_multiples():
    # x = 7 * i + (j - 2) * 3 + 4  ->  7 i + 3 j - 2
    module, x, ivs = _index_and_ivs(
        "%t = arith.muli %c7, %i : index\n%u = arith.subi %j, %c2 : index\n"
        "%w = arith.muli %u, %c3 : index\n%y = arith.addi %t, %w : index\n%x = arith.addi %y, %c4 : index"
    )
    assert linear_coefficients(x, ivs) == {0: 7, 1: 3}
    assert affine_form(x, ivs) == ({0: 7, 1: 3}, -2)


def test_invariant_symbols_count_in_linear_coefficients_only():
    # x = i + s * 3 + j: linear in (i, j), but not a constant offset.
    module, x, ivs = _index_and_ivs(
        "%t = arith.muli %s, %c3 : index\n%y = arith.addi %i, %t : index\n%x = arith.addi %y, %j : index"
    )
    assert linear_coefficients(x, ivs) == {0: 1, 1: 1}
    assert affine_form(x, ivs) is None


def test_cancelling_terms_leave_no_coefficient():
    module, x, ivs = _index_and_ivs("%y = arith.addi %i, %j : index\n%x = arith.subi %y, %i : index")
    assert linear_coefficients(x, ivs) == {1: 1}


def test_products_of_variables_and_clamps_are_not_linear():
    module, x, ivs = _index_and_ivs("%x = arith.muli %i, %j : index")
    assert linear_coefficients(x, ivs) is None
    module, x, ivs = _index_and_ivs("%y = arith.addi %i, %c1 : index\n%x = arith.minsi %y, %c3 : index")
    assert linear_coefficients(x, ivs) is None
    # A clamp of invariants only is an invariant term.
    module, x, ivs = _index_and_ivs("%y = arith.minsi %s, %c3 : index\n%x = arith.addi %y, %j : index")
    assert linear_coefficients(x, ivs) == {1: 1}
    assert affine_form(x, ivs) is None
